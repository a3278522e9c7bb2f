// Fields only some choices of a radio group need, and fields filled in from what was
// just typed. Self-hosted and loaded by init.js (the content security policy allows no
// inline script); without JavaScript the fields are all shown and the server fills in
// what was left blank (escalations/forms.py).

// GOV.UK's conditional reveal, for a block that more than one radio reveals (GOV.UK
// Frontend's radios each reveal a block of their own): the written statement, shown
// while a stage that asks for one is chosen. Listening for "change", which follows the
// click GOV.UK Frontend's radios listen for, so this has the last word on the block.
export function initReveals(root) {
  for (const block of root.querySelectorAll("[data-app-reveal-name]")) {
    const form = block.closest("form") || root;
    const values = block.dataset.appRevealValues.split(" ");
    const radios = [
      ...form.querySelectorAll(
        `input[type="radio"][name="${CSS.escape(block.dataset.appRevealName)}"]`,
      ),
    ];
    const revealing = radios.filter((radio) => values.includes(radio.value));
    for (const radio of revealing) radio.setAttribute("aria-controls", block.id);
    const sync = () => {
      block.classList.toggle(
        "govuk-radios__conditional--hidden",
        !revealing.some((radio) => radio.checked),
      );
      // GOV.UK Frontend marks radios that reveal a block aria-expanded (on click and on
      // pageshow); ARIA allows it on no radio, and axe calls it critical
      // (aria-allowed-attr; govuk-frontend issue 979). The block is next to its radios.
      for (const radio of revealing) radio.removeAttribute("aria-expanded");
    };
    for (const radio of radios) radio.addEventListener("change", sync);
    // Registered after GOV.UK Frontend's own pageshow handler, so it runs after it.
    window.addEventListener("pageshow", sync);
    sync();
  }
}

// A box that follows another as it is typed (the statement's "issue" follows "The
// issue"), until the person changes the box themselves: then it is theirs.
export function initPrefill(root) {
  for (const target of root.querySelectorAll("[data-app-prefill-from]")) {
    const source = root.getElementById(target.dataset.appPrefillFrom);
    if (!source) continue;
    // What the box last copied; null once the person has written their own.
    let copied = target.value === "" || target.value === source.value ? target.value : null;
    source.addEventListener("input", () => {
      if (copied === null || target.value !== copied) {
        copied = null;
        return;
      }
      target.value = source.value;
      copied = source.value;
    });
  }
}
