// The editing pages' little script (no inline script: the CSP forbids it). Without it the pages
// work the same; it only counts as the editor types, names the menu key picked and copies a binding code.
"use strict";
(function () {
  // Menu names: UTF-8 bytes, as WeChat counts them (a Chinese character is 3).
  function bytes(text) { return new TextEncoder().encode(text).length; }
  document.querySelectorAll("input[data-max-bytes]").forEach(function (input) {
    var out = document.getElementById(input.id.replace(/-name$/, "-bytes"));
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    function show() {
      var n = bytes(input.value);
      out.textContent = n + "/" + max + " 字节" + (n > max ? "（超出）" : "");
      out.classList.toggle("over", n > max);
    }
    input.addEventListener("input", show);
    show();
  });
  // Counted characters (the WeChat title's 32): the length in code points, as the server counts.
  document.querySelectorAll("input[data-max-chars], textarea[data-max-chars]").forEach(function (input) {
    var out = document.getElementById(input.id + "-count");
    var max = parseInt(input.getAttribute("data-max-chars"), 10);
    function show() {
      var n = Array.from(input.value.trim()).length;
      out.textContent = n + "/" + max + " 字" + (n > max ? "（超出）" : "");
      out.classList.toggle("over", n > max);
    }
    input.addEventListener("input", show);
    show();
  });
  // Menu CLICK keys: the list of the keys the bot answers is offered for a click button only, and the
  // key's name is shown as it is picked or typed.
  var known = {};
  document.querySelectorAll("#click-keys option").forEach(function (o) { known[o.value] = o.textContent; });
  document.querySelectorAll("small.key-name").forEach(function (out) {
    var prefix = out.id.replace(/-key$/, "");
    var kind = document.getElementById(prefix + "-type");
    var value = document.getElementById(prefix + "-value");
    function show() {
      var click = kind.value === "click";
      if (click) { value.setAttribute("list", "click-keys"); } else { value.removeAttribute("list"); }
      var key = value.value.trim();
      out.textContent = click && key ? (known[key] || out.getAttribute("data-unknown")) : "";
    }
    kind.addEventListener("change", show);
    value.addEventListener("input", show);
    show();
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      field.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value); } else { document.execCommand("copy"); }
      button.textContent = "已复制";
    });
  });
})();
