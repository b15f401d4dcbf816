// The pages' few behaviours, bound from data attributes: the Content-Security-Policy allows
// no inline script or on… handler.
"use strict";

// <button data-confirm="Question?">: asks before the form is submitted.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// <input type="checkbox" data-select-all="NAME">: ticks or clears every checkbox named NAME.
document.addEventListener("change", (event) => {
  const toggle = event.target.closest("[data-select-all]");
  if (!toggle) {
    return;
  }
  const boxes = document.querySelectorAll(`input[type=checkbox][name="${toggle.dataset.selectAll}"]`);
  boxes.forEach((box) => {
    box.checked = toggle.checked;
  });
});
