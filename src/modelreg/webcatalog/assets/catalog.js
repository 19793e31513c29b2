// The catalog's one script: the search box of the index filters the models' rows.
// (No inline scripts or handlers anywhere: the pages' Content-Security-Policy allows
// scripts from the site's own files only.)
"use strict";
(function () {
  var box = document.getElementById("search");
  if (!box) {
    return;
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("#models tbody tr"));
  var count = document.getElementById("search-count");
  function filter() {
    var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row) {
      var text = row.getAttribute("data-search") || "";
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      row.hidden = !match;
      if (match) {
        shown += 1;
      }
    });
    if (count) {
      count.textContent = words.length ? shown + " of " + rows.length + " models" : "";
    }
  }
  box.addEventListener("input", filter);
  filter();
})();
