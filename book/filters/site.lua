-- site.lua: writes the book as a site, a page per chapter, from the
-- document pandoc has read (after include.lua and manpages.lua), in the
-- same run that writes the book on one page:
--
--   pandoc ... --lua-filter=book/filters/site.lua -M site-dir=build/book/html \
--       --standalone --self-contained -o build/book/workbook.html ...
--
-- Each level-1 heading starts a page named after its id (ch-threads.html);
-- the first page, the preface with the title, is index.html. Every page is
-- written by pandoc's own HTML writer with the options of the command line
-- (numbered as in the one-page book, by number_offset; sections in
-- <section> elements, as --section-divs does), through the template
-- book/site/page.html. Besides the pages, in site-dir:
--
--   - a link #id to another page's section becomes page.html#id;
--   - a relative link gets one more ../ (the pages sit a folder below the
--     one-page book), but the links to a listing's source (class
--     source-file, made by include.lua), which point to a copy in src/;
--   - pictures are copied into img/ and the pages point there;
--   - search-index.js: every section's title and text (code blocks left
--     out), which site.js searches in the browser;
--   - every page gets the sidebar (every chapter and its sections, the
--     current one open and marked) and links to the previous and next page.
--
-- The document itself goes on unchanged, to the one-page book. Without
-- site-dir the filter does nothing.

local site_dir = nil
local template_file = "book/site/page.html"

local function fail(msg)
  error("site.lua: " .. msg)
end

local function read(path, mode)
  local f = io.open(path, mode or "r")
  if f == nil then fail("cannot read " .. path) end
  local text = f:read("a")
  f:close()
  return text
end

local function write(path, text, mode)
  local f = io.open(path, mode or "w")
  if f == nil then fail("cannot write " .. path) end
  f:write(text)
  f:close()
end

local function escape_html(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function json(s)
  return '"' .. s:gsub('[%c"\\/]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "/" then return "\\/" end
    if c == "\n" then return "\\n" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- Text in one line, for the search index.
local function flat(s)
  return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

-- ---- splitting -----------------------------------------------------------

local function numbered(h)
  return not h.classes:includes("unnumbered")
end

-- The pages, in order: { file, id, header, number (nil if unnumbered),
-- offset (for number_offset), blocks, sections }, with sections the
-- level-2 headings as { id, header, number }.
local function split(blocks)
  local pages, page, chapter, l2 = {}, nil, 0, 0
  for _, b in ipairs(blocks) do
    if b.t == "Header" and b.level == 1 then
      local num = nil
      if numbered(b) then
        chapter = chapter + 1
        num = tostring(chapter)
      end
      if page ~= nil and page.header == nil and num == nil then
        page.header, page.id = b, b.identifier      -- text before it stays
      else
        -- The first page is the start page; the others are named by id.
        local file = #pages == 0 and "index.html"
          or ((b.identifier ~= "" and b.identifier or ("page-" .. (#pages + 1))) .. ".html")
        page = { file = file, id = b.identifier, header = b, number = num,
                 offset = num and (chapter - 1) or chapter, blocks = {}, sections = {} }
        table.insert(pages, page)
      end
      l2 = 0
    elseif page == nil then
      page = { file = "index.html", id = "", blocks = {}, sections = {}, offset = 0 }
      table.insert(pages, page)
    end
    if b.t == "Header" and b.level == 2 then
      local num = nil
      if page.number and numbered(b) then
        l2 = l2 + 1
        num = page.number .. "." .. l2
      end
      table.insert(page.sections, { id = b.identifier, header = b, number = num })
    end
    table.insert(page.blocks, b)
  end
  return pages
end

-- ---- what every page links to --------------------------------------------

local copies = {}          -- destination (in site_dir) -> source

local function local_path(url)
  return not (url:match("^%a[%w+.-]*:") or url:match("^/") or url:match("^#"))
end

-- The picture's file, found as pandoc would (the resource path . and book).
local function find_picture(src)
  for _, dir in ipairs({ ".", "book" }) do
    local path = dir == "." and src or (dir .. "/" .. src)
    local f = io.open(path, "r")
    if f then f:close(); return path end
  end
  fail("no picture " .. src)
end

local function link_pages(pages)
  local where = {}
  local function note(page)
    return function(el)
      if el.identifier and el.identifier ~= "" and where[el.identifier] == nil then
        where[el.identifier] = page.file
      end
    end
  end
  for _, page in ipairs(pages) do
    local n = note(page)
    pandoc.walk_block(pandoc.Div(page.blocks),
      { Header = n, Div = n, Span = n, CodeBlock = n, Image = n, Table = n })
  end
  for _, page in ipairs(pages) do
    page.blocks = pandoc.walk_block(pandoc.Div(page.blocks), {
      Link = function(l)
        local id = l.target:match("^#(.+)$")
        if id then
          if where[id] and where[id] ~= page.file then
            l.target = where[id] .. "#" .. id
            return l
          end
          return nil
        end
        if l.classes:includes("source-file") then
          -- include.lua links from build/book/ to the tree: ../../PATH.
          local path = l.target:match("^%.%./%.%./(.+)$")
          if path == nil then fail("a source-file link not to ../../: " .. l.target) end
          l.target = "src/" .. path
          copies[l.target] = path
          return l
        end
        if local_path(l.target) then
          l.target = "../" .. l.target
          return l
        end
      end,
      Image = function(img)
        if local_path(img.src) then
          local dest = "img/" .. img.src:gsub("^build/", "")
          copies[dest] = find_picture(img.src)
          img.src = dest
          return img
        end
      end,
    }).content
  end
end

local function copy_files()
  local dirs, seen = {}, {}
  for dest in pairs(copies) do
    local dir = pandoc.path.directory(site_dir .. "/" .. dest)
    if not seen[dir] then
      seen[dir] = true
      table.insert(dirs, "'" .. dir:gsub("'", "'\\''") .. "'")
    end
  end
  if #dirs > 0 and not os.execute("mkdir -p " .. table.concat(dirs, " ")) then
    fail("cannot make the folders of " .. site_dir)
  end
  for dest, src in pairs(copies) do
    write(site_dir .. "/" .. dest, read(src, "rb"), "wb")
  end
end

-- ---- headings as HTML, all in one go --------------------------------------

-- Renders every inline list in `list` (a table of Inlines) to HTML with one
-- call of the writer; returns the strings in the same order.
local function render_all(list)
  local blocks, mark = {}, "<!--site.lua-->"
  for _, inlines in ipairs(list) do
    table.insert(blocks, pandoc.Plain(inlines))
    table.insert(blocks, pandoc.RawBlock("html", mark))
  end
  local html = pandoc.write(pandoc.Pandoc(blocks), "html5", { wrap_text = "none" })
  local out, from = {}, 1
  while true do
    local at, to = html:find(mark, from, true)
    if at == nil then break end
    table.insert(out, (html:sub(from, at - 1):gsub("^%s+", ""):gsub("%s+$", "")))
    from = to + 1
  end
  if #out ~= #list then fail("rendering headings: " .. #out .. " for " .. #list) end
  return out
end

-- A heading's text without the man-page links and footnotes it may hold.
local function title_inlines(header)
  return pandoc.walk_inline(pandoc.Span(header.content), {
    Link = function(l) return l.content end,
    Note = function() return {} end,
  }).content
end

local function label(number, html)
  return (number and ('<span class="num">' .. number .. '</span> ') or "") .. html
end

-- ---- the sidebar and the pager ---------------------------------------------

local function sidebar(pages, current)
  local out = { '<ol class="toc">' }
  for _, page in ipairs(pages) do
    local here = page == current
    local href = here and "#" .. page.id or page.file
    if page.file == "index.html" and not here then href = "index.html" end
    table.insert(out, '<li class="toc-page' .. (here and ' current' or '') .. '">')
    local link = '<a href="' .. escape_html(href) .. '"' ..
                 (here and ' aria-current="page"' or '') .. '>' ..
                 label(page.number, page.title_html) .. '</a>'
    if #page.sections > 0 then
      table.insert(out, '<details' .. (here and ' open' or '') .. '><summary>' .. link ..
                        '</summary><ol>')
      for _, s in ipairs(page.sections) do
        local shref = here and ("#" .. s.id) or (page.file .. "#" .. s.id)
        table.insert(out, '<li><a href="' .. escape_html(shref) .. '">' ..
                          label(s.number, s.title_html) .. '</a></li>')
      end
      table.insert(out, '</ol></details>')
    else
      table.insert(out, link)
    end
    table.insert(out, '</li>')
  end
  table.insert(out, '</ol>')
  return table.concat(out, "\n")
end

local function pager_link(page, rel, arrow_first)
  if page == nil then return '<span></span>' end
  local text = '<span class="pager-title">' .. label(page.number, page.title_html) .. '</span>'
  return '<a class="pager-' .. rel .. '" rel="' .. rel .. '" href="' .. page.file .. '">' ..
         (arrow_first and ('<span class="pager-dir">\u{2190} Previous</span>' .. text)
                      or ('<span class="pager-dir">Next \u{2192}</span>' .. text)) .. '</a>'
end

-- ---- the search index ----------------------------------------------------

-- One entry per heading of level 1 to 3 (the text up to the next one, but
-- its code blocks: listings and runs), as [page, id, number and title, text].
local function search_index(pages)
  local rows = {}
  for p, page in ipairs(pages) do
    local entry = nil
    local num = { page.number or "", 0, 0 }
    local function close()
      if entry then
        table.insert(rows, "[" .. (p - 1) .. "," .. json(entry.id) .. "," ..
          json(entry.title) .. "," .. json(flat(table.concat(entry.text, " "))) .. "]")
      end
    end
    for _, b in ipairs(page.blocks) do
      if b.t == "Header" and b.level <= 3 then
        close()
        local n = ""
        if page.number and not b.classes:includes("unnumbered") then
          if b.level == 1 then n = page.number
          elseif b.level == 2 then num[2], num[3] = num[2] + 1, 0; n = page.number .. "." .. num[2]
          else num[3] = num[3] + 1; n = page.number .. "." .. num[2] .. "." .. num[3] end
        end
        entry = { id = b.identifier, title = flat((n ~= "" and n .. " " or "") ..
                  pandoc.utils.stringify(b)), text = {} }
      elseif entry and b.t ~= "CodeBlock" and b.t ~= "RawBlock" then
        table.insert(entry.text, pandoc.utils.stringify(b))
      end
    end
    close()
  end
  local list = {}
  for _, page in ipairs(pages) do
    table.insert(list, "[" .. json(page.file) .. "," ..
      json(flat((page.number and page.number .. " " or "") ..
        pandoc.utils.stringify(title_inlines(page.header or pandoc.Header(1, {}))))) .. "]")
  end
  return "// The search index of the book, written by book/filters/site.lua.\n" ..
         "window.BOOK_SEARCH = {\"pages\": [\n" .. table.concat(list, ",\n") ..
         "\n], \"sections\": [\n" .. table.concat(rows, ",\n") .. "\n]};\n"
end

-- ---- writing -----------------------------------------------------------------

local function Meta(meta)
  if meta["site-dir"] then site_dir = pandoc.utils.stringify(meta["site-dir"]) end
  if site_dir == "" then site_dir = nil end
  if meta["site-template"] then template_file = pandoc.utils.stringify(meta["site-template"]) end
end

local function Pandoc(doc)
  if site_dir == nil then return nil end
  local pages = split(doc.blocks)
  if #pages == 0 then fail("the book has no heading") end
  link_pages(pages)

  local titles = {}
  for _, page in ipairs(pages) do
    table.insert(titles, page.header and title_inlines(page.header) or { pandoc.Str("Start") })
    for _, s in ipairs(page.sections) do table.insert(titles, title_inlines(s.header)) end
  end
  local html = render_all(titles)
  local i = 0
  for _, page in ipairs(pages) do
    i = i + 1; page.title_html = html[i]
    for _, s in ipairs(page.sections) do i = i + 1; s.title_html = html[i] end
  end

  local template = pandoc.template.compile(read(template_file), template_file)
  local book_title = pandoc.utils.stringify(doc.meta.title or "")
  for n, page in ipairs(pages) do
    local opts = {}
    for k, v in pairs(PANDOC_WRITER_OPTIONS) do opts[k] = v end
    opts.template = template
    opts.table_of_contents = false
    opts.section_divs = true
    opts.number_offset = { page.offset }
    opts.wrap_text = "none"          -- the same page, and the writer's fastest
    local plain_title = flat(pandoc.utils.stringify(page.header and title_inlines(page.header) or {}))
    opts.variables = {
      pagetitle = (n == 1 or plain_title == "") and book_title
                  or (plain_title .. " \u{2013} " .. book_title),
      ["book-title"] = escape_html(book_title),
      sidebar = sidebar(pages, page),
      prev = pager_link(pages[n - 1], "prev", true),
      next = pager_link(pages[n + 1], "next", false),
      index = n == 1 and "true" or nil,
    }
    local meta = doc.meta
    write(site_dir .. "/" .. page.file, pandoc.write(pandoc.Pandoc(page.blocks, meta), "html5", opts))
  end
  write(site_dir .. "/search-index.js", search_index(pages))
  copy_files()
  return nil
end

return {
  { Meta = Meta },
  { Pandoc = Pandoc },
}
