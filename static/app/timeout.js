// The time-out warning (the GOV.UK / HMRC pattern): a modal dialog before the idle limit
// ends the session (config/timeout.py says when). "Stay signed in" restarts the limit;
// "Sign out" signs out. When the limit passes, nothing is thrown away: the page stays as
// it is, and a form sent from it is kept for after signing in again.

function phrase(seconds) {
  const minutes = Math.ceil(seconds / 60);
  if (seconds > 60) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  return `${seconds} second${seconds === 1 ? "" : "s"}`;
}

// Screen readers hear the time left now and then, not every second.
function spokenPhrase(seconds) {
  if (seconds > 60) return phrase(seconds);
  return phrase(Math.max(15, Math.ceil(seconds / 15) * 15));
}

export function initTimeoutWarning(root) {
  const dialog = root.getElementById("app-timeout");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const idle = Number(dialog.dataset.idleSeconds);
  const lead = Number(dialog.dataset.warningSeconds);
  if (!(idle > 0)) return;
  const warning = dialog.querySelector('[data-timeout-state="warning"]');
  const ended = dialog.querySelector('[data-timeout-state="ended"]');
  const countdown = dialog.querySelector("[data-timeout-countdown]");
  const spoken = dialog.querySelector("[data-timeout-countdown-spoken]");
  const live = dialog.querySelector("[data-timeout-live]");
  const token = dialog.querySelector('input[name="csrfmiddlewaretoken"]').value;
  let returnFocus = null;
  let endsAt = 0;
  let timer = 0;
  let lastSpoken = "";

  function secondsLeft() {
    return Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
  }

  function open() {
    if (dialog.open) return;
    returnFocus = root.activeElement;
    dialog.showModal();
    dialog.querySelector("[data-timeout-extend]").focus();
  }

  function close() {
    if (dialog.open) dialog.close();
    if (returnFocus && typeof returnFocus.focus === "function") returnFocus.focus();
  }

  function showEnded() {
    window.clearInterval(timer);
    warning.hidden = true;
    ended.hidden = false;
    dialog.setAttribute("aria-labelledby", "app-timeout-ended-title");
    dialog.setAttribute("aria-describedby", "app-timeout-ended-text");
    if (!dialog.open) {
      returnFocus = root.activeElement;
      dialog.showModal();
    }
    live.textContent = "";
    ended.querySelector("[data-timeout-close]").focus();
  }

  function tick() {
    const left = secondsLeft();
    if (left <= 0) {
      showEnded();
      return;
    }
    if (left <= lead) {
      countdown.textContent = phrase(left);
      const said = spokenPhrase(left);
      spoken.textContent = said;
      if (dialog.open && said !== lastSpoken) {
        live.textContent = `You will be signed out in ${said}.`;
      }
      lastSpoken = said;
      open();
    }
  }

  function restart() {
    endsAt = Date.now() + idle * 1000;
    lastSpoken = "";
    window.clearInterval(timer);
    timer = window.setInterval(tick, 1000);
  }

  async function stay() {
    let response;
    try {
      response = await fetch(dialog.dataset.extendUrl, {
        method: "POST",
        headers: { "X-CSRFToken": token },
        credentials: "same-origin",
      });
    } catch {
      live.textContent = "You could not be kept signed in: check your connection and try again.";
      return;
    }
    if (response.ok) {
      restart();
      close();
    } else {
      showEnded();
    }
  }

  dialog.querySelector("[data-timeout-extend]").addEventListener("click", stay);
  ended.querySelector("[data-timeout-close]").addEventListener("click", close);
  dialog.addEventListener("cancel", (event) => {
    // Escape: in the warning it means "stay signed in"; once signed out it just closes.
    event.preventDefault();
    if (ended.hidden) stay();
    else close();
  });
  restart();
}
