-- manpages.lua: a manual page named in the text, `select(2)` or select(2),
-- becomes a link to that page on man7.org, in every format that has links.
--
-- Only inline code and words whose whole text is NAME(SECTION) are taken,
-- with SECTION a digit 1-8 and an optional suffix (3p, 3posix); a word may
-- carry punctuation around it ("(see select(2)),"). Code blocks are never
-- touched, nor text that already is a link or a heading. A call in inline
-- code that looks like a page, such as `sleep(1)` meaning the C call, is
-- kept as code when it has a class: `sleep(1)`{.c}.

local URL = "https://man7.org/linux/man-pages/man%s/%s.%s.html"

local function page(name, section)
  return string.format(URL, section:sub(1, 1), name, section)
end

-- NAME(SECTION) exactly, or nil.
local function parse(text)
  local name, section = text:match("^([%a_][%w_.+-]*)%(([1-8]%l*)%)$")
  return name, section
end

local function man_link(content, name, section)
  return pandoc.Link(content, page(name, section), "",
                     pandoc.Attr("", { "manpage" }))
end

-- Returns the element and false, so that the traversal (top-down) does not
-- go into what it returns.
local function Code(code)
  if #code.classes > 0 then
    return nil
  end
  local name, section = parse(code.text)
  if name then
    return man_link({ code }, name, section), false
  end
end

local function Str(str)
  local text = str.text
  if not text:find("%(%d") then
    return nil
  end
  local lead, core, trail = text:match("^([%(%[\"'“‘]*)(.-)([%)%]%.,;:!?\"'”’]*)$")
  -- A word that ends in ")" lends it to the trailing punctuation: take it back.
  local name, section = parse(core)
  if not name and trail:sub(1, 1) == ")" then
    core, trail = core .. ")", trail:sub(2)
    name, section = parse(core)
  end
  if not name then
    return nil
  end
  local out = {}
  if lead ~= "" then table.insert(out, pandoc.Str(lead)) end
  table.insert(out, man_link({ pandoc.Str(core) }, name, section))
  if trail ~= "" then table.insert(out, pandoc.Str(trail)) end
  return out, false
end

-- One pass, from the top down: a link or a heading is kept as it is, and
-- the traversal does not go into it (no link in a link, none in a heading,
-- where it would also land in the table of contents).
return {
  {
    traverse = "topdown",
    Link = function(link) return link, false end,
    Header = function(h) return h, false end,
    Code = Code,
    Str = Str,
  },
}
