// The header of a folded solution opens and closes it, whatever part of it is clicked.
//
// sphinx-exercise titles a solution "Solution to <a href="#ex-...">Exercise 4.2</a>", and
// sphinx-togglebutton toggles only on a click on the title's own box or its chevron: a click on
// the link (most of the header) jumped back to the exercise and left the solution closed. Here
// the link becomes plain text and any click in the header presses the toggle button.
// tests/test_layout.py checks that clicking the header text opens the solution.
(() => {
  const headers = () =>
    document.querySelectorAll("div.solution.dropdown > .admonition-title");

  const unlink = (title) => {
    title.querySelectorAll("a.reference").forEach((link) => {
      const text = document.createElement("span");
      text.className = "solution-of";
      text.textContent = link.textContent;
      link.replaceWith(text);
    });
  };

  const pressToggle = (event) => {
    const title = event.currentTarget;
    const button = title.querySelector("button.toggle-button");
    // Clicks on the title's own box or on the button are sphinx-togglebutton's to handle.
    if (!button || event.target === title || button.contains(event.target)) return;
    event.preventDefault();
    event.stopPropagation();
    button.click(); // bubbles to the title with the button as its target
  };

  const setUp = () => {
    headers().forEach((title) => {
      unlink(title);
      title.addEventListener("click", pressToggle, true); // before the theme's handler
    });
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
