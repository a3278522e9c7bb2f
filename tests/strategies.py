"""Hypothesis strategies the tests of HTML printed in Python share: text with markup
characters and the parts of a row's link, so each printer meets what escaping is for."""

from hypothesis import strategies as st

# Empty, plain, with markup characters, with both quotes, a dash.
words = st.sampled_from(["", "Ada Lovelace, Bo Peep", "Fish & <chips>", "\"quoted\" 'it'", "—"])
# A row's link and the reference it shows.
urls = st.sampled_from(["/escalations/12/", "/escalations/1/?a=1&b=<2>"])
references = st.sampled_from(["ESC-000012", "ESC-<1>"])
