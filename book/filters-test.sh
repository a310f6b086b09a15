#!/usr/bin/env bash
# Tests the book's filters on a tiny book of two chapters, in a temporary
# folder: include.lua (listings and where they come from), manpages.lua
# (man-page links, and where they must not be), site.lua (the split into
# pages, links across pages, numbering, sidebar, pager, search index, copied
# pictures and sources) and api-backlinks.awk (the API reference's link back).
#
#   book/filters-test.sh
#
# Prints one line per failed expectation; exits 1 if any failed, else 0.
set -u
book=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/filters-test.XXXXXX") || exit 2
trap '[ -n "${FILTERS_TEST_KEEP:-}" ] || rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2
mkdir -p chapters/01-one exercises/01-one site

cat >meta.yaml <<'EOF'
---
title: "Tiny"
lang: en
---
EOF
cat >preface.md <<'EOF'
# Start here {.unnumbered #start}

Read [the second part](#two-b) first.

## Before {.unnumbered #start-before}

Text.
EOF
cat >chapters/01-one/prog.c <<'EOF'
int before;
// [body]
int inside = 1;
int also = 2;
// [body]
EOF
printf '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>\n' >pic.svg
cat >chapters/01-one/chapter.md <<'EOF'
# One {#ch-one}

## Alpha {#one-a}

See `select(2)` and select(2), or (poll(2)), and pthread_create(3p); not
`sleep(1)`{.c}, not `f(x)`, not [`read(2)`](#two-b).

```
select(2) in a code block stays as it is
```

```{.c include="chapters/01-one/prog.c" region="body"}
```

![A picture.](pic.svg)

## The poll(2) call {#one-poll}

### Exercise {#one-ex-foo}

- API reference: [foo_bar.h](api:foo_bar.h).
EOF
cat >two.md <<'EOF'
# Two {#ch-two}

## Beta {#two-b}

### Deep {#two-deep}

Back to [alpha](#one-a). Searchable zanzibar.
EOF
cat >exercises/01-one/foo_bar.h <<'EOF'
/**
 * @file foo_bar.h
 * @brief A contract.
 */
int foo(void);
EOF

failed=0
# The writer wraps lines: the patterns are matched with newlines as spaces.
expect() {   # expect FILE PATTERN WHAT (grep -E)
    if ! tr '\n' ' ' <"$1" 2>/dev/null | grep -Eq -- "$2"; then
        echo "filters-test: FAIL: $3 (no /$2/ in $1)"
        failed=$((failed + 1))
    fi
}
refuse() {   # refuse FILE PATTERN WHAT
    if tr '\n' ' ' <"$1" 2>/dev/null | grep -Eq -- "$2"; then
        echo "filters-test: FAIL: $3 (/$2/ in $1)"
        failed=$((failed + 1))
    fi
}

if ! pandoc --fail-if-warnings --lua-filter="$book/filters/include.lua" \
        --lua-filter="$book/filters/manpages.lua" --number-sections --toc \
        --highlight-style=tango --standalone --self-contained \
        --lua-filter="$book/filters/site.lua" -M book-format=html -M site-dir=site \
        -M site-template="$book/site/page.html" \
        -o one.html meta.yaml preface.md chapters/01-one/chapter.md two.md \
        2>pandoc.log; then
    echo "filters-test: FAIL: pandoc stopped:"
    sed 's/^/filters-test:   /' pandoc.log
    exit 1
fi

for f in index.html ch-one.html ch-two.html search-index.js src/chapters/01-one/prog.c img/pic.svg; do
    [ -s "site/$f" ] || { echo "filters-test: FAIL: no site/$f"; failed=$((failed + 1)); }
done
# Links across pages, and in the page.
expect site/index.html 'href="ch-two.html#two-b"' "a link to another page's section"
expect site/ch-two.html 'href="ch-one.html#one-a"' "a link back to an earlier page"
expect site/ch-one.html 'href="ch-two.html#two-b"' "a link whose text is a man page keeps its target"
# Numbering continues across pages.
expect site/ch-one.html '<h1 data-number="1">' "chapter one is numbered 1"
expect site/ch-two.html '<h1 data-number="2">' "chapter two is numbered 2"
expect site/ch-two.html 'header-section-number">2\.1\.1<' "a section of chapter two is 2.1.1"
# The sidebar, the pager, the title.
expect site/ch-two.html '<li class="toc-page current">' "the sidebar marks the current page"
expect site/ch-two.html 'aria-current="page"' "the current page's link says so"
expect site/ch-two.html '<a href="ch-one.html#one-poll"><span class="num">1\.2</span> The poll\(2\) call</a>' "the sidebar lists another page's sections, numbered"
expect site/ch-one.html 'rel="prev" href="index.html"' "previous page"
expect site/ch-one.html 'rel="next" href="ch-two.html"' "next page"
expect site/ch-one.html '<title>One – Tiny</title>' "the page's title"
# Listings: the file, region and lines, linked to the copy in src/.
expect site/ch-one.html 'href="src/chapters/01-one/prog.c"' "a listing links to its source"
expect site/ch-one.html '\[body\], lines 3–4' "a listing names its region and lines"
refuse site/ch-one.html '// \[body\]' "a region's markers never show"
# Pictures are files beside the pages.
expect site/ch-one.html 'src="img/pic.svg"' "a picture is a file in img/"
# Man pages: code and words, not in code blocks, headings or links.
expect site/ch-one.html 'href="https://man7.org/linux/man-pages/man2/select.2.html"' "select(2) links"
[ "$(grep -o 'man2/select.2.html' site/ch-one.html | wc -l)" -eq 2 ] ||
    { echo "filters-test: FAIL: select(2) in code and in a word: two links"; failed=$((failed + 1)); }
expect site/ch-one.html 'man2/poll.2.html"[^>]*>poll\(2\)</a>\)' "a word in parentheses links, its parentheses kept"
expect site/ch-one.html 'man3/pthread_create.3p.html' "a section with a suffix (3p)"
refuse site/ch-one.html 'sleep\.1\.html' "code with a class is not a man page"
refuse site/ch-one.html 'read\.2\.html' "no man-page link inside a link"
refuse site/ch-one.html '<h2[^>]*>[^<]*<span[^>]*>[^<]*</span> *The <a' "no man-page link in a heading"
expect site/ch-one.html '<code>select\(2\) in a code block stays as it is</code>' "a code block is left alone"
# The one-page book is written as before: links in the page, pictures inside.
expect one.html 'href="#two-b"' "the one-page book keeps its in-page links"
expect one.html 'href="\.\./\.\./chapters/01-one/prog\.c"' "the one-page book links a listing to the tree"
expect one.html 'src="data:image/svg\+xml' "the one-page book holds its pictures"
expect one.html 'href="\.\./docs/html/foo__bar_8h\.html"' "the one-page book reaches the API reference"
refuse one.html 'toc-page' "the one-page book has no sidebar"
# The API reference, from the site.
expect site/ch-one.html 'href="\.\./\.\./docs/html/foo__bar_8h\.html"' "an api: link reaches the Doxygen page"
# The search index: every section, with its text, code blocks left out.
expect site/search-index.js '\[2,"two-deep","2\.1\.1 Deep","Back to alpha\. Searchable zanzibar\."\]' "the search index holds each section's text"
refuse site/search-index.js 'in a code block stays' "the search index leaves code blocks out"

# The API reference's link back, from the chapter's Markdown.
awk -f "$book/api-backlinks.awk" exercises/01-one/foo_bar.h >foo_bar.out
expect foo_bar.out '@book <a href="\.\./\.\./book/html/ch-one\.html#one-ex-foo">Chapter 1: Exercise</a>' "the contract links back to its exercise's section"
[ "$(wc -l <foo_bar.out)" -eq "$(wc -l <exercises/01-one/foo_bar.h)" ] ||
    { echo "filters-test: FAIL: the back link moved Doxygen's line numbers"; failed=$((failed + 1)); }

if [ "$failed" -gt 0 ]; then
    echo "filters-test: $failed failed"
    exit 1
fi
echo "filters-test: OK (include.lua, manpages.lua, site.lua, api-backlinks.awk on a tiny book)"
