-- include.lua: fills the book's empty code blocks from files that are built
-- and tested, so the text cannot drift from the code.
--
--   ```{.c include="chapters/01-sync/printers_seq.c" region="loop"}
--   ```
-- shows the lines between the two `// [loop]` markers of that file (the
-- whole file without region=). Marker lines of any region never show.
--
--   ```{.console run="01-sync/sumnums"}
--   ```
-- shows "$ " and the run's command, then the output captured when the book
-- was built (build/runs/01-sync/sumnums.{cmd,txt}, made by run-demos.sh).
--
-- Above every listing a line says where it comes from: the file (a link to
-- it in the HTML books), the region and its lines.
--
--   [runner.h](api:runner.h)
-- links to the Doxygen page of that contract.
--
--   ![caption](timeline:01-sync/printers_seq)
-- the timeline drawn from the trace that run left (SVG, or PDF for xelatex).
--
--   ![caption](figure:02-processes/fork_tree)
-- a diagram drawn by Graphviz from chapters/02-processes/fork_tree.dot.
--
-- A missing file, region, run or picture stops the build with a message.

local RUNS = "build/runs/"

local function read_file(path, why)
  local f = io.open(path, "r")
  if f == nil then
    error("include.lua: cannot open " .. path .. " (" .. why .. ")")
  end
  local text = f:read("a")
  f:close()
  return text
end

local function is_marker(line)
  return line:match("^%s*//%s*%[[%w_%-]+%]%s*$") ~= nil
end

-- Remove the indentation every non-blank line shares.
local function dedent(lines)
  local common = nil
  for _, line in ipairs(lines) do
    if line:match("%S") then
      local lead = #line:match("^(%s*)")
      if common == nil or lead < common then
        common = lead
      end
    end
  end
  common = common or 0
  local out = {}
  for i, line in ipairs(lines) do
    out[i] = line:sub(common + 1)
  end
  return out
end

-- The region's text, and where it sits: "12-30" (or "12-30, 41-52" for a
-- region opened twice), counting the file's lines from 1.
local function extract(path, region)
  local text = read_file(path, "named by include=")
  local lines, inside, found = {}, region == nil, false
  local spans, number = {}, 0
  local function shown(n)
    local last = spans[#spans]
    if last ~= nil and last[2] == n - 1 then
      last[2] = n
    else
      table.insert(spans, { n, n })
    end
  end
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    number = number + 1
    local name = line:match("^%s*//%s*%[([%w_%-]+)%]%s*$")
    if region ~= nil and name == region then
      if inside then
        inside = false
      else
        inside, found = true, true
      end
    elseif inside and not is_marker(line) then
      table.insert(lines, line)
      shown(number)
    end
  end
  if region ~= nil and not found then
    error("include.lua: " .. path .. " has no region [" .. region .. "]")
  end
  if region ~= nil and inside then
    error("include.lua: region [" .. region .. "] of " .. path ..
          " is opened but never closed")
  end
  while #lines > 0 and not lines[#lines]:match("%S") do
    table.remove(lines)
  end
  local where = {}
  for _, span in ipairs(spans) do
    table.insert(where, span[1] == span[2] and tostring(span[1])
                        or (span[1] .. "\u{2013}" .. span[2]))
  end
  return table.concat(dedent(lines), "\n"), table.concat(where, ", ")
end

local format = "html"

-- The HTML book sits in build/book/ (site.lua gives the site's pages a
-- copy of the file instead). A PDF or an EPUB travels alone: it names the
-- file.
local function tree_link(path)
  if format == "html" then
    return "../../" .. path
  end
end

-- "chapters/01-sync/steps.c [loop], lines 12-30", above the listing.
local function source_line(path, region, where)
  local name = pandoc.Code(path)
  local target = tree_link(path)
  local inlines = { target and pandoc.Link({ name }, target, "the whole file",
                                           pandoc.Attr("", { "source-file" })) or name }
  if region ~= nil then
    table.insert(inlines, pandoc.Space())
    table.insert(inlines, pandoc.Str("[" .. region .. "],"))
  end
  if where ~= "" then
    table.insert(inlines, pandoc.Space())
    table.insert(inlines, pandoc.Str((where:find("[,\u{2013}]") and "lines " or "line ") .. where))
  end
  if format == "pdf" then
    -- Keep the line with the first lines of its listing (needspace, in
    -- pdf-header.tex).
    table.insert(inlines, 1, pandoc.RawInline("latex", "\\noindent{\\footnotesize "))
    table.insert(inlines, pandoc.RawInline("latex", "}\\par\\nopagebreak"))
    return { pandoc.RawBlock("latex", "\\Needspace{6\\baselineskip}"), pandoc.Plain(inlines) }
  end
  return pandoc.Div({ pandoc.Plain(inlines) }, pandoc.Attr("", { "listing-source" }))
end

function Meta(meta)
  if meta["book-format"] then
    format = pandoc.utils.stringify(meta["book-format"])
  end
end

function CodeBlock(block)
  local include = block.attributes["include"]
  local run = block.attributes["run"]
  if include ~= nil then
    local region = block.attributes["region"]
    local text, where = extract(include, region)
    block.text = text
    block.attributes["include"] = nil
    block.attributes["region"] = nil
    local line = source_line(include, region, where)
    if line.t ~= nil then line = { line } end
    table.insert(line, block)
    return line
  end
  if run ~= nil then
    local cmd = read_file(RUNS .. run .. ".cmd",
                          "run " .. run .. ": is it listed in its chapter's runs file?")
    local out = read_file(RUNS .. run .. ".txt", "output of run " .. run)
    out = out:gsub("\n$", "")
    block.text = "$ " .. cmd:gsub("\n$", "") .. (out ~= "" and ("\n" .. out) or "")
    block.attributes["run"] = nil
    return block
  end
end

function Link(link)
  local header = link.target:match("^api:(.+)$")
  if header == nil then
    return nil
  end
  -- Doxygen's page for foo_bar.h is foo__bar_8h.html.
  local page = header:gsub("_", "__"):gsub("%.", "_8") .. ".html"
  if format == "html" then
    link.target = "../docs/html/" .. page
    return link
  end
  -- A PDF or EPUB travels without the reference beside it: name the page.
  local content = link.content
  table.insert(content, pandoc.Str(" (API reference: build/docs/html/" .. page .. ")"))
  return pandoc.Span(content)
end

local function picture(path)
  local f = io.open(path, "r")
  if f == nil then
    error("include.lua: no picture " .. path ..
          " (a timeline needs a run that leaves a trace; a figure needs its .dot file)")
  end
  f:close()
  return path
end

function Image(img)
  local ext = format == "pdf" and ".pdf" or ".svg"
  local run = img.src:match("^timeline:(.+)$")
  if run ~= nil then
    img.src = picture(RUNS .. run .. ext)
    return img
  end
  local fig = img.src:match("^figure:(.+)$")
  if fig ~= nil then
    img.src = picture("build/figures/" .. fig .. ext)
    return img
  end
end

-- Meta must run before the blocks that depend on the format.
return {
  { Meta = Meta },
  { CodeBlock = CodeBlock, Link = Link, Image = Image },
}
