/* The site's few behaviours, no library, nothing fetched from elsewhere:
 *
 *   - the Contents button opens and closes the sidebar on a narrow screen;
 *   - the sidebar marks the section being read (aria-current="location");
 *   - every code block gets a Copy button (a run's block copies its
 *     command, without "$ ");
 *   - the search box searches search-index.js (written by site.lua when
 *     the book is built), loaded by a <script> tag the first time it is
 *     needed, so it works from file:// as well as from a server.
 *
 * Keys: "/" goes to the search box; in it, Enter opens the first result,
 * the arrow keys move through the results, Escape clears it. */
(function () {
  "use strict";
  var body = document.body;
  var sidebar = document.getElementById("sidebar");
  var menu = document.getElementById("menu");

  /* ---- the sidebar on a narrow screen -------------------------------------- */
  function set_open(open) {
    body.classList.toggle("sidebar-open", open);
    if (menu) menu.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open && location.hash === "#sidebar") {
      history.replaceState(null, "", location.pathname + location.search);
    }
  }
  if (menu) {
    menu.addEventListener("click", function (ev) {
      ev.preventDefault();
      set_open(!body.classList.contains("sidebar-open"));
    });
    /* It is a link (so that it works without this script), acting as a button. */
    menu.addEventListener("keydown", function (ev) {
      if (ev.key === " ") {
        ev.preventDefault();
        menu.click();
      }
    });
  }
  /* Following a link in the sidebar closes it (the page moves on). */
  sidebar.addEventListener("click", function (ev) {
    if (ev.target.closest("a[href]") && !ev.target.closest("summary")) set_open(false);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && body.classList.contains("sidebar-open")) set_open(false);
  });

  /* ---- where the reader is --------------------------------------------------- */
  var toc_links = {};
  sidebar.querySelectorAll("li.current a[href^='#']").forEach(function (a) {
    toc_links[decodeURIComponent(a.getAttribute("href").slice(1))] = a;
  });
  var heads = Array.prototype.filter.call(
    document.querySelectorAll("main h1[id], main section.level1[id], main section.level2[id]"),
    function (el) { return toc_links[el.id]; });
  var shown = null;
  function mark_here() {
    var here = null;
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getBoundingClientRect().top > 110) break;
      here = heads[i];
    }
    if (!here && heads.length) here = heads[0];
    /* At the end of the page the last sections cannot reach the top. */
    var de = document.documentElement;
    if (heads.length && window.scrollY > 0 && window.innerHeight + window.scrollY >= de.scrollHeight - 2) {
      here = heads[heads.length - 1];
    }
    var a = here ? toc_links[here.id] : null;
    if (a === shown) return;
    if (shown) shown.removeAttribute("aria-current");
    if (a && a.closest("summary")) a = null;      /* the chapter itself is marked already */
    if (a) a.setAttribute("aria-current", "location");
    shown = a;
    if (a) {
      var sr = sidebar.getBoundingClientRect(), ar = a.getBoundingClientRect();
      if (ar.top < sr.top + 40 || ar.bottom > sr.bottom - 40) {
        sidebar.scrollTop += ar.top - sr.top - sr.height / 3;
      }
    }
  }
  window.addEventListener("scroll", mark_here, { passive: true });
  window.addEventListener("resize", mark_here);
  mark_here();
  var current = sidebar.querySelector("li.current");
  if (current && !shown) {
    sidebar.scrollTop = Math.max(0, current.offsetTop - 80);
  }

  /* ---- copy buttons --------------------------------------------------------------- */
  function copy_text(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallback(text); });
    }
    return fallback(text);
  }
  function fallback(text) {
    return new Promise(function (ok, fail) {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.cssText = "position:fixed;top:0;left:0;opacity:0";
      body.appendChild(ta);
      ta.select();
      var done = false;
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      body.removeChild(ta);
      if (done) ok(); else fail(new Error("copy refused"));
    });
  }
  /* A run shows "$ command" then its output: the command is what to copy. */
  function text_of(pre) {
    var text = pre.textContent.replace(/\n$/, "");
    if (pre.classList.contains("console")) {
      var cmds = text.split("\n").filter(function (l) { return l.indexOf("$ ") === 0; });
      if (cmds.length) return cmds.map(function (l) { return l.slice(2); }).join("\n");
    }
    return text;
  }
  document.querySelectorAll("main div.sourceCode, main pre").forEach(function (block) {
    if (block.tagName === "PRE" && block.closest("div.sourceCode")) return;
    var pre = block.tagName === "PRE" ? block : block.querySelector("pre");
    if (!pre) return;
    var wrap = document.createElement("div");
    wrap.className = "code-wrap";
    block.parentNode.insertBefore(wrap, block);
    wrap.appendChild(block);
    var console_block = pre.classList.contains("console");
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "copy";
    var label = console_block ? "Copy command" : "Copy";
    btn.textContent = label;
    btn.setAttribute("aria-label", console_block ? "Copy the command" : "Copy the code");
    btn.addEventListener("click", function () {
      copy_text(text_of(pre)).then(function () {
        btn.textContent = "Copied";
      }, function () {
        btn.textContent = "Select and copy";
      }).then(function () {
        setTimeout(function () { btn.textContent = label; }, 1600);
      });
    });
    var source = wrap.previousElementSibling;
    if (source && source.classList.contains("listing-source")) source.appendChild(btn);
    else wrap.appendChild(btn);
  });

  /* ---- search ---------------------------------------------------------------------- */
  var input = document.getElementById("search-input");
  var results = document.getElementById("search-results");
  var form = document.getElementById("search");
  var index = null, loading = null;

  function load_index() {
    if (window.BOOK_SEARCH) return Promise.resolve(prepare(window.BOOK_SEARCH));
    if (!loading) {
      loading = new Promise(function (ok, fail) {
        var s = document.createElement("script");
        s.src = "search-index.js";
        s.onload = function () {
          if (window.BOOK_SEARCH) ok(prepare(window.BOOK_SEARCH));
          else fail(new Error("search-index.js defines no index"));
        };
        s.onerror = function () { fail(new Error("search-index.js did not load")); };
        document.head.appendChild(s);
      });
    }
    return loading;
  }

  function fold(s) {
    return s.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function prepare(raw) {
    if (index) return index;
    index = raw.sections.map(function (r) {
      return { page: raw.pages[r[0]], id: r[1], title: r[2], text: r[3],
               ftitle: fold(r[2]), ftext: fold(r[3]) };
    });
    return index;
  }

  function count(hay, needle, max) {
    var n = 0, at = 0;
    while (n < max && (at = hay.indexOf(needle, at)) >= 0) { n++; at += needle.length; }
    return n;
  }

  /* Every word of the query must appear, in the title or in the text. */
  function search(query) {
    var words = fold(query).split(/[^\w.()+-]+/).filter(function (w) { return w.length > 1 || /\d/.test(w); });
    if (!words.length) return { words: words, hits: [] };
    var hits = [];
    index.forEach(function (s) {
      var score = 0;
      for (var i = 0; i < words.length; i++) {
        var w = words[i];
        var t = count(s.ftitle, w, 3), x = count(s.ftext, w, 20);
        if (!t && !x) return;
        score += 10 * t + x;
      }
      hits.push({ s: s, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    return { words: words, hits: hits.slice(0, 30) };
  }

  function esc(s) {
    return s.replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
    });
  }

  /* The words of the query, marked, in a piece of text. The text and its
   * folded form have the same length for the letters the book uses. */
  function marked(text, words) {
    var f = fold(text);
    if (f.length !== text.length) return esc(text);
    var spans = [];
    words.forEach(function (w) {
      for (var at = f.indexOf(w); at >= 0; at = f.indexOf(w, at + w.length)) spans.push([at, at + w.length]);
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var out = "", pos = 0;
    spans.forEach(function (sp) {
      if (sp[0] < pos) return;
      out += esc(text.slice(pos, sp[0])) + "<mark>" + esc(text.slice(sp[0], sp[1])) + "</mark>";
      pos = sp[1];
    });
    return out + esc(text.slice(pos));
  }

  function snippet(s, words) {
    var at = -1;
    for (var i = 0; i < words.length && at < 0; i++) at = s.ftext.indexOf(words[i]);
    if (at < 0) return marked(s.text.slice(0, 160), words) + (s.text.length > 160 ? "\u2026" : "");
    var from = Math.max(0, at - 60), to = Math.min(s.text.length, at + 120);
    while (from > 0 && s.text.charAt(from - 1) !== " ") from--;
    return (from > 0 ? "\u2026" : "") + marked(s.text.slice(from, to), words) +
           (to < s.text.length ? "\u2026" : "");
  }

  var here_page = location.pathname.split("/").pop() || "index.html";
  function show(query) {
    if (!query.trim()) {
      results.hidden = true;
      results.innerHTML = "";
      return;
    }
    load_index().then(function () {
      if (input.value !== query) return;            /* the reader typed on */
      var r = search(query);
      var html = "<p>" + (r.hits.length ? (r.hits.length === 30 ? "The first 30 results" :
        r.hits.length + (r.hits.length === 1 ? " result" : " results")) :
        "Nothing found") + " for \u201c" + esc(query.trim()) + "\u201d</p><ol>";
      r.hits.forEach(function (h) {
        var href = (h.s.page[0] === here_page ? "" : h.s.page[0]) + "#" + h.s.id;
        html += '<li><a href="' + esc(href) + '"><span class="hit-title">' + marked(h.s.title, r.words) +
          '</span><span class="hit-page">' + esc(h.s.page[1]) + '</span><span class="hit-text">' +
          snippet(h.s, r.words) + "</span></a></li>";
      });
      results.innerHTML = html + "</ol>";
      results.hidden = false;
    }, function (err) {
      results.innerHTML = "<p>The search index could not be loaded: " + esc(String(err.message)) + "</p>";
      results.hidden = false;
    });
  }

  if (input && results) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { show(input.value); }, 80);
    });
    input.addEventListener("focus", function () { load_index().catch(function () {}); });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearTimeout(timer);
      show(input.value);
      var first = results.querySelector("a");
      if (first) first.click();
    });
    results.addEventListener("keydown", function (ev) { move(ev); });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") {
        input.value = "";
        show("");
      } else {
        move(ev);
      }
    });
    var move = function (ev) {
      if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
      var links = Array.prototype.slice.call(results.querySelectorAll("a"));
      if (!links.length) return;
      ev.preventDefault();
      var at = links.indexOf(document.activeElement);
      var next = ev.key === "ArrowDown" ? at + 1 : at - 1;
      if (next < 0) input.focus();
      else links[Math.min(next, links.length - 1)].focus();
    };
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "/" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      var t = ev.target;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
      ev.preventDefault();
      if (getComputedStyle(sidebar).display === "none") set_open(true);
      input.focus();
    });
    /* A search given in the address (page.html?q=words) is run at once. */
    var q = new URLSearchParams(location.search).get("q");
    if (q) {
      input.value = q;
      if (getComputedStyle(sidebar).display === "none") set_open(true);
      show(q);
    }
  }
})();
