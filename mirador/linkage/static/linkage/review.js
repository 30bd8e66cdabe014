// The review queue from the keyboard: J and K (or Tab) move between pairs, A accepts the
// focused pair, R rejects it. The buttons themselves work with Enter and Space as usual.
(function () {
  "use strict";
  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("#review-pairs .review-pair"));
  }
  function move(from, step) {
    var all = cards();
    var index = all.indexOf(from);
    var next = all[index + step] || (index < 0 ? all[0] : null);
    if (next) { next.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target.closest("input, textarea, select")) { return; }
    var card = target.closest(".review-pair");
    var key = event.key.toLowerCase();
    if (key === "j") { event.preventDefault(); move(card, 1); return; }
    if (key === "k") { event.preventDefault(); move(card, -1); return; }
    if (!card || (key !== "a" && key !== "r")) { return; }
    var button = card.querySelector("button[data-key='" + key + "']");
    if (button) { event.preventDefault(); button.click(); }
  });
  // After a decision the card is replaced: focus it again (so R then J goes on to the next).
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail.target;
    var card = swapped && swapped.id ? document.getElementById(swapped.id) : null;
    if (card) { card.focus(); }
  });
})();
