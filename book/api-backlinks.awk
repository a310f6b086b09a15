# api-backlinks.awk: Doxygen's INPUT_FILTER (book/Doxyfile). It gives each
# exercise's contract a link back to the book's section of that exercise.
#
#   awk -f book/api-backlinks.awk exercises/03-threads/psum.h
#
# prints the header as it is, except that the comment holding @file gets,
# before its closing */ (on the same line, so that Doxygen's line numbers
# stay right), "@book" (an alias in the Doxyfile) and links to the section:
# the section of chapters/03-threads/chapter.md under which the chapter
# first links to the contract, [psum.h](api:psum.h). The site's page of a
# chapter is named after the id of the chapter's level-1 heading, as
# book/filters/site.lua names it. A header that no section links to is
# printed unchanged. Run from the top folder of the workbook.

function html(s) {
    gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s)
    return s
}

# Sets page, id and title from the chapter's Markdown; returns 1 if found.
function find_section(md, header,    line, fence, sec, text, want, m) {
    want = "(api:" header ")"
    fence = 0
    while ((getline line < md) > 0) {
        if (line ~ /^(```|~~~)/) { fence = !fence; continue }
        if (fence) continue
        if (line ~ /^# / && match(line, /\{#[^ }]+/)) {
            page = substr(line, RSTART + 2, RLENGTH - 2) ".html"
        } else if (line ~ /^##+ / && match(line, /\{#[^ }]+/)) {
            sec = substr(line, RSTART + 2, RLENGTH - 2)
            text = line
            sub(/^##+ +/, "", text)
            sub(/ *\{#.*$/, "", text)
            gsub(/[`*\\]/, "", text)
        }
        if (index(line, want) > 0 && sec != "") {
            id = sec
            title = text
            close(md)
            return 1
        }
    }
    close(md)
    return 0
}

BEGIN {
    file = ARGV[1]
    n = split(file, part, "/")
    header = part[n]
    folder = n >= 2 ? part[n - 1] : ""
    link = ""
    if (folder ~ /^[0-9][0-9]-/ && find_section("chapters/" folder "/chapter.md", header)) {
        chapter = substr(folder, 1, 2) + 0
        link = "@book <a href=\"../../book/html/" page "#" id "\">Chapter " chapter ": " \
               html(title) "</a> (also in <a href=\"../../book/workbook.html#" id \
               "\">the book on one page</a>) "
    }
    in_file_comment = 0
    done = link == ""
}

{
    if (!done && /[@\\]file([ \t]|$)/) in_file_comment = 1
    if (!done && in_file_comment && index($0, "*/") > 0) {
        at = index($0, "*/")
        $0 = substr($0, 1, at - 1) link substr($0, at)
        done = 1
    }
    print
}
