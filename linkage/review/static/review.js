// Keyboard shortcuts for the review app. Every action is also a plain link or form button,
// so the app works without this script; it only presses those buttons for the officer.
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");

  function press(id) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    el.click();
    return true;
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  var keys = {
    pair: {
      s: function () { return press("decide-same"); },
      d: function () { return press("decide-different"); },
      n: function () { return press("decide-not-sure"); },
      // Undo the decision just saved (banner) if there is one, else this pair's decision.
      u: function () { return press("undo-last") || press("undo"); },
      j: function () { return press("next"); },
      arrowright: function () { return press("next"); },
      k: function () { return press("prev"); },
      arrowleft: function () { return press("prev"); },
      q: function () { return press("to-queue"); },
      "/": function () { var n = document.getElementById("note"); if (n) { n.focus(); } return !!n; }
    },
    queue: {
      n: function () { return press("start"); }
    }
  };

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var handlers = keys[page] || {};
    var handler = handlers[event.key.toLowerCase()];
    if (handler && handler()) { event.preventDefault(); }
  });

  // One submission per form: a double key press must not send a decision twice.
  Array.prototype.forEach.call(document.querySelectorAll("form[method=post]"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
  });
})();
