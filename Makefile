# The Async C Workbook: every command lives here. `make help` lists them.
#
# Layout (see README.md): chapters/NN-topic holds a chapter's text and demos,
# exercises/NN-topic the contracts and stubs, solutions/NN-topic the reference
# solutions, tests/NN-topic the Check suites and known-wrong variants.
# Everything generated goes under build/.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

CHAPTER ?=
EXERCISE ?=
IMPL ?= exercises
SANITIZE ?=
WERROR ?=

# --- Variants -------------------------------------------------------------
# Each build variant keeps its objects apart, so switching between a plain
# and a sanitizer build never mixes objects or rebuilds the other.
# What the command line asked for: the grader tells "none" (a plain
# build) from nothing (the chapter's default build).
SANITIZE_ASKED := $(SANITIZE)
ifeq ($(SANITIZE),none)
override SANITIZE :=
endif
ifeq ($(SANITIZE),)
VARIANT := plain
SAN_FLAGS :=
else ifeq ($(SANITIZE),address)
VARIANT := asan
SAN_FLAGS := -fsanitize=address -fno-omit-frame-pointer
else ifeq ($(SANITIZE),undefined)
VARIANT := ubsan
SAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined
else ifeq ($(SANITIZE),thread)
VARIANT := tsan
SAN_FLAGS := -fsanitize=thread
else
$(error SANITIZE must be address, undefined or thread, not '$(SANITIZE)')
endif
ifneq ($(WERROR),)
VARIANT := $(VARIANT)-strict-$(notdir $(CC))
endif

B := build/$(VARIANT)

CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

WARN := -Wall -Wextra -Wpedantic $(if $(WERROR),-Werror)
CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 $(WARN) $(SAN_FLAGS) -pthread
LDFLAGS := $(SAN_FLAGS) -pthread
# A source file's chapter folder is the part of its path named NN-topic.
CHAPTER_FOLDERS := $(notdir $(wildcard chapters/[0-9][0-9]-* exercises/[0-9][0-9]-* tests/[0-9][0-9]-*))
chapter_of = $(firstword $(filter $(CHAPTER_FOLDERS),$(subst /, ,$(1))))
INCLUDES = -Iexercises/$(call chapter_of,$<) -Iexercises -Itests/support -Ichapters

# --- What exists ------------------------------------------------------------
CHAPTERS := $(patsubst chapters/%/chapter.md,%,$(wildcard chapters/[0-9][0-9]-*/chapter.md))
TEST_SRCS := $(sort $(wildcard tests/[0-9][0-9]-*/test_*.c))
# chapter/name of every exercise, e.g. 01-sync/runner
EXERCISES := $(patsubst tests/%.c,%,$(subst /test_,/,$(TEST_SRCS)))
# Known-wrong variants: tests/NN-topic/NAME.wrong_WHAT.patch, a patch
# against solutions/NN-topic/NAME.c (below: applied at build time).
WRONG_PATCHES := $(sort $(wildcard tests/[0-9][0-9]-*/*.wrong_*.patch))
WRONG_SRCS := $(WRONG_PATCHES:.patch=.c)
DEMO_SRCS := $(sort $(wildcard chapters/[0-9][0-9]-*/*.c))
SUPPORT_OBJS := $(B)/obj/tests/support/wb.o

# The code under test's allocation calls go to tests/support/alloc.c's
# counting wrappers (each test fails with blocks left live), and its
# pthread_exit() to the fixture's (wb.c: on the test's own thread, an early
# end in every build): its object is linked as NAME.counted.o, renamed by
# objcopy. The grader renames a learner's object the same way (buildbox.py,
# given this list by make grader-env). Every suite links with --wrap=free,
# so a block the test frees with free() leaves the count too. A building
# block (a solutions/ file a suite's .links names) is linked as
# NAME.block.o: its pthread_exit() goes to the fixture's, and its
# allocation calls to alloc.c's wb_block_ functions, which count nothing
# (the blocks are trusted) but fail when a test says (wb_block_alloc_fail()).
# The grader renames a building block the learner wrote (in a handout) the
# same way (BLOCK_REDIRECT).
LEARNER_ALLOC := malloc calloc realloc reallocarray free strdup strndup \
                 posix_memalign aligned_alloc memalign valloc pvalloc \
                 getline getdelim asprintf vasprintf
LEARNER_REDIRECT := $(LEARNER_ALLOC) pthread_exit
REDEFINE := $(foreach f,$(LEARNER_REDIRECT),--redefine-sym $(f)=wb_learner_$(f))
BLOCK_ALLOC := malloc calloc realloc reallocarray strdup strndup
BLOCK_REDEFINE := $(foreach f,$(BLOCK_ALLOC),--redefine-sym $(f)=wb_block_$(f)) \
                  --redefine-sym pthread_exit=wb_learner_pthread_exit
ALLOC_LDFLAGS := -Wl,--wrap=free

# The test binary of one implementation: build/VARIANT/bin/<source without .c>
bin_of = $(B)/bin/$(basename $(1))

# Extra sources an exercise links (a building block from an earlier
# chapter), listed one per line in tests/NN-topic/NAME.links.
# $(file <) reads without starting a process, so parsing stays fast.
# A building block under solutions/ is linked as NAME.block.o (above).
links_of = $(foreach s,$(if $(wildcard tests/$(1).links),$(file <tests/$(1).links)),\
    $(B)/obj/$(if $(filter solutions/%,$(s)),$(s:.c=.block.o),$(s:.c=.o)))

# A suite that links tests/support/wrap.c (in its NAME.links) sees every
# call of these functions the code under test makes, and can fail one.
WRAPPED := fork pthread_create write fflush waitpid pthread_mutex_init \
           pthread_cond_init clock_gettime fsync rename read pipe fcntl send
WRAP_LDFLAGS := $(foreach f,$(WRAPPED),-Wl,--wrap=$(f))
ldflags_of = $(if $(filter $(B)/obj/tests/support/wrap.o,$(call links_of,$(1))),$(WRAP_LDFLAGS))
# Libraries (and other linker flags) a suite needs, one line in
# tests/NN-topic/NAME.libs: "-luring". The grader reads the same file.
libs_of = $(if $(wildcard tests/$(1).libs),$(strip $(file <tests/$(1).libs)))

# Folders of implementations laid out like exercises/: the stubs, the
# reference solutions, and the hostile implementations that test the grader.
IMPL_DIRS := exercises solutions $(patsubst %/,%,$(wildcard tests/grader/*/))

# exercise_rules(chapter/name): the test binaries of every implementation.
define exercise_rules
$(foreach d,$(IMPL_DIRS),$(call bin_of,$(d)/$(1).c)): $(B)/bin/%/$(1): \
    $(B)/obj/%/$(1).counted.o $(B)/obj/tests/$(dir $(1))test_$(notdir $(1)).o \
    $(SUPPORT_OBJS) $(call links_of,$(1))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) $(ALLOC_LDFLAGS) $(call ldflags_of,$(1)) -o $$@ $$^ $(call libs_of,$(1)) $$(CHECK_LIBS)
endef
$(foreach e,$(EXERCISES),$(eval $(call exercise_rules,$(e))))

# A known-wrong variant is the reference solution with its patch applied
# (no fuzz: a patch that no longer applies stops the build), graded by the
# suite of NAME. Its source is build/wrong/tests/NN-topic/NAME.wrong_WHAT.c.
wrong_exercise = $(firstword $(subst .wrong_, ,$(patsubst tests/%.c,%,$(1))))
build/wrong/%.c: %.patch
	@mkdir -p $(@D)
	@patch --quiet --fuzz=0 --reject-file=- -o $@ \
	    solutions/$(call wrong_exercise,$*.c).c <$< || \
	    { rm -f $@; echo "$<: no longer applies to solutions/$(call wrong_exercise,$*.c).c"; exit 1; }
$(foreach w,$(WRONG_SRCS),$(eval build/wrong/$(w): solutions/$(call wrong_exercise,$(w)).c))
define wrong_rules
$(call bin_of,$(1)): $(B)/obj/build/wrong/$(1:.c=.counted.o) \
    $(B)/obj/tests/$(dir $(call wrong_exercise,$(1)))test_$(notdir $(call wrong_exercise,$(1))).o \
    $(SUPPORT_OBJS) $(call links_of,$(call wrong_exercise,$(1)))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) $(ALLOC_LDFLAGS) $(call ldflags_of,$(call wrong_exercise,$(1))) -o $$@ $$^ $(call libs_of,$(call wrong_exercise,$(1))) $$(CHECK_LIBS)
endef
$(foreach w,$(WRONG_SRCS),$(eval $(call wrong_rules,$(w))))
.SECONDARY: $(foreach e,$(EXERCISES),$(foreach d,$(IMPL_DIRS),$(B)/obj/$(d)/$(e).o)) \
            $(foreach w,$(WRONG_SRCS),$(B)/obj/build/wrong/$(w:.c=.o))

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) $(INCLUDES) -MMD -MP -c $< -o $@

# The code under test with its calls redirected (LEARNER_REDIRECT).
# Its uncounted object is kept (not an intermediate file to delete).
$(B)/obj/%.counted.o: $(B)/obj/%.o
	objcopy $(REDEFINE) $< $@

# A building block with its calls redirected (BLOCK_REDIRECT).
$(B)/obj/%.block.o: $(B)/obj/%.o
	objcopy $(BLOCK_REDEFINE) $< $@

# The test support is one object, wb.c and alloc.c linked together, so
# every suite (and the grader, which links wb.o) counts allocations.
$(B)/obj/tests/support/wb.o: $(B)/obj/tests/support/fixture.o $(B)/obj/tests/support/alloc.o
	ld -r -o $@ $(filter %.o,$^)
$(B)/obj/tests/support/fixture.o: tests/support/wb.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Itests/support -MMD -MP -c $< -o $@

DEMO_BINS := $(patsubst chapters/%.c,$(B)/demos/%,$(DEMO_SRCS))
# A demo that needs a library names it in a line "// link: -luv"; one
# that needs a compiler flag more, in a line "// cflags: -DX=1".
$(B)/demos/%: chapters/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $$(sed -n 's|^// cflags: ||p' $<) $(INCLUDES) -MMD -MP -o $@ $< $(DEMO_LINK) $(LDFLAGS) -lm $$(sed -n 's|^// link: ||p' $<)

# A demo may link exercise code, named here (DEMO_LINK, and as
# prerequisites so that it is rebuilt when they change): the reference
# solutions, or in the learners' copy (make handout, no solutions/) the
# learner's own files. impl_of(chapter/name.c) is the file to link.
impl_of = $(if $(wildcard solutions/$(1)),solutions,exercises)/$(1)
# gcc writes one .d file per output, and with several sources the last
# one's dependencies win: such a demo also depends on every header of the
# folders it draws from.
headers_of = $(sort $(wildcard $(foreach d,$(sort $(foreach f,$(1),$(call chapter_of,$(f)))),exercises/$(d)/*.h chapters/$(d)/*.h)))
# chat_server runs the chat exercise of chapter 4.
CHAT_SRCS := $(foreach f,chat loop linebuf timerq,$(call impl_of,04-select/$(f).c))
$(B)/demos/04-select/chat_server: $(CHAT_SRCS) $(call headers_of,$(CHAT_SRCS))
$(B)/demos/04-select/chat_server: DEMO_LINK = $(CHAT_SRCS)
# chat_epoll runs the same chat on the epoll loop of chapter 6 (eloop.c
# instead of loop.c); chat.c and the others include their headers by
# their bare names, so it also needs chapter 4's contracts on the path.
CHAT_EPOLL_SRCS := $(foreach f,chat linebuf timerq,$(call impl_of,04-select/$(f).c)) \
    $(call impl_of,06-beyond/eloop.c)
$(B)/demos/06-beyond/chat_epoll: $(CHAT_EPOLL_SRCS) $(call headers_of,$(CHAT_EPOLL_SRCS))
$(B)/demos/06-beyond/chat_epoll: DEMO_LINK = -Iexercises/04-select $(CHAT_EPOLL_SRCS)
# kv_server runs chapter 7's first capstone (kv.c) on chapter 4's loop
# and timerq.
KV_SRCS := $(foreach f,07-every-way/kv 04-select/loop 04-select/timerq,$(call impl_of,$(f).c))
$(B)/demos/07-every-way/kv_server: $(KV_SRCS) $(call headers_of,$(KV_SRCS))
$(B)/demos/07-every-way/kv_server: DEMO_LINK = -Iexercises/04-select $(KV_SRCS)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# --- Commands ---------------------------------------------------------------
.PHONY: help deps check test book docs examples format format-check clean \
        hint progress watch compile-commands \
        print-build-dir grader-env mutant-env mutants all-binaries all-but-variants demos stubs-manifest gradebook handout bench \
        autograder autograder-try

help:
	@echo 'Async C Workbook'
	@echo
	@echo 'Start here:'
	@echo '  make book                       build the book: build/book/html/ (a site), workbook.{html,pdf,epub}'
	@echo '  make check CHAPTER=1            grade your exercises of chapter 1'
	@echo
	@echo 'Grading:'
	@echo '  make hint CHAPTER=N EXERCISE=name [RESET=1]'
	@echo '                                  the next hint of an exercise, one at a time'
	@echo '  make progress                   every exercise: passed, failing, not started; what to do next'
	@echo '  make watch CHAPTER=N [EXERCISE=name]'
	@echo '                                  re-grade whenever you save a file of that chapter'
	@echo '  make compile-commands           compile_commands.json for your editor (clangd)'
	@echo
	@echo '  make check [CHAPTER=N] [EXERCISE=name] [IMPL=exercises|solutions] [SANITIZE=...]'
	@echo '                                  run the tests; last line "chapter-N: P passed, F failed"'
	@echo '                                  IMPL=solutions grades the reference solutions'
	@echo '                                  SANITIZE=address|undefined|thread builds with a sanitizer'
	@echo '                                  TRACE=1 (with EXERCISE) draws the timeline of your run'
	@echo '                                  ALL_TESTS=1 runs every test even after tests hang'
	@echo '                                  (chapters 3 and 5 build with ThreadSanitizer by default;'
	@echo '                                  SANITIZE=none grades a plain build)'
	@echo
	@echo 'Instructors:'
	@echo '  make gradebook SUBMISSIONS=DIR [CHAPTER=N]'
	@echo '                                  grade a class: a folder or archive per learner in DIR;'
	@echo '                                  build/gradebook/gradebook.csv, JSON, Gradescope results.json'
	@echo '  make handout DEST=DIR [CHAPTER="N ..."]'
	@echo '                                  the learners'"'"' copy: everything but the solutions,'
	@echo '                                  with a GitHub Classroom workflow grading those chapters'
	@echo '  make autograder [CHAPTER=N] [EXERCISE=name] [POINTS=name=P,...]'
	@echo '                                  build/autograder/autograder.zip for Gradescope'
	@echo '  make autograder-try SUBMISSION=DIR'
	@echo '                                  run that zip here as Gradescope would, print the results'
	@echo
	@echo 'Book and reference:'
	@echo '  make book                       HTML, PDF and EPUB in build/book/ (and the API reference)'
	@echo '  make docs                       Doxygen reference of every contract in build/docs/'
	@echo '  make demos                      build every demo program into build/plain/demos/'
	@echo '  make examples [CHAPTER=N]       build and run the demo programs (of one chapter)'
	@echo '  make bench [QUICK=1]            the measurements the chapters quote, under build/bench/'
	@echo
	@echo 'Maintainers:'
	@echo '  make test                       prove everything; last line "test: N passed, N failed"'
	@echo '  make deps                       install the missing Debian/Ubuntu packages'
	@echo '  make format / format-check      apply / verify .clang-format on every C file'
	@echo '  make stubs-manifest             record the stubs as untouched (after editing a stub)'
	@echo '  make clean                      remove build/'

# Debian/Ubuntu packages. The TeX ones are installed without recommends,
# which saves a gigabyte.
PKGS := gcc clang make pkg-config check pandoc doxygen graphviz \
        poppler-utils clang-format fonts-dejavu-core procps inotify-tools \
        librsvg2-bin valgrind bubblewrap jq binutils patch \
        libuv1-dev liburing-dev python3 netcat-openbsd strace python3-clang-14 mypy \
        redis-server redis-tools gnuplot-nox libxml2-utils python3-yaml
PKGS_NOREC := texlive-xetex texlive-latex-recommended texlive-latex-extra \
              texlive-fonts-recommended lmodern chromium

deps:
	@book/deps.sh $(PKGS) -- $(PKGS_NOREC)

# The build folder of the current variant, for scripts.
print-build-dir:
	@echo $(B)

# What the grader needs to build a test binary itself (it compiles the
# learner's file in its sandbox), as shell assignments.
grader-env:
	@printf "%s='%s'\n" B '$(B)' CC '$(CC)' \
	    CFLAGS '$(CFLAGS) $(CHECK_CFLAGS) -Iexercises -Itests/support -Ichapters' \
	    PLAIN_CFLAGS '$(filter-out $(SAN_FLAGS),$(CFLAGS)) $(CHECK_CFLAGS) -Iexercises -Itests/support -Ichapters' \
	    LDFLAGS '$(LDFLAGS)' LIBS '$(CHECK_LIBS)' WRAP_LDFLAGS '$(WRAP_LDFLAGS)' REDIRECT '$(REDEFINE)' \
	    BLOCK_REDIRECT '$(BLOCK_REDEFINE)'

# The learner's and instructor's tools: tests/support/wbtools/, a Python
# package (standard library only), a module per command, run by Debian's
# python3 (a python3 earlier on PATH may be a shim that costs a second).
PYTHON := $(firstword $(wildcard /usr/bin/python3) python3)
WBTOOLS := PYTHONPATH=tests/support PYTHONPYCACHEPREFIX=$(CURDIR)/build/pycache PYTHONDONTWRITEBYTECODE= \
           $(PYTHON) -m wbtools

check:
	@CC='$(CC)' SANITIZE='$(SANITIZE_ASKED)' TRACE='$(TRACE)' WB_ALL_TESTS='$(ALL_TESTS)' $(WBTOOLS) check \
	    '$(CHAPTER)' '$(EXERCISE)' '$(IMPL)'

# make mutants: single-point mutations of the reference solutions, each
# graded by its exercise's suite (tests/support/wbtools/mutants.py).
# LIMIT=K grades at most K mutants per exercise (a smoke test); AGAIN=FILE
# only those a survivors file of an earlier run lists.
mutants:
	@$(WBTOOLS) mutants --chapter='$(CHAPTER)' \
	    --exercise='$(EXERCISE)' $(if $(LIMIT),--limit=$(LIMIT)) \
	    $(if $(AGAIN),--again='$(AGAIN)')

# What make mutants needs to build the suite of exercise EX (NN-topic/name)
# around a mutated source: the flags, and the trusted objects (built here).
MUTANT_OBJS = $(B)/obj/tests/$(dir $(EX))test_$(notdir $(EX)).o $(SUPPORT_OBJS) $(call links_of,$(EX))
mutant-env: $(if $(EX),$(MUTANT_OBJS))
	@printf '%s\n' 'CC=$(CC)' \
	    'CFLAGS=$(CFLAGS) $(CHECK_CFLAGS) -Iexercises/$(firstword $(subst /, ,$(EX))) -Iexercises -Itests/support -Ichapters' \
	    'LDFLAGS=$(LDFLAGS) $(ALLOC_LDFLAGS)' 'WRAP=$(call ldflags_of,$(EX))' \
	    'REDIRECT=$(REDEFINE)' 'OBJECTS=$(MUTANT_OBJS)' 'LIBS=$(call libs_of,$(EX)) $(CHECK_LIBS)'

# Every object, test binary and demo of the current variant.
ALL_BINS := $(foreach e,$(EXERCISES),$(call bin_of,exercises/$(e).c) \
              $(call bin_of,solutions/$(e).c)) \
            $(foreach w,$(WRONG_SRCS),$(call bin_of,$(w))) $(DEMO_BINS)
all-binaries: $(ALL_BINS)
# The same without the known-wrong variants (each a solution with one bug
# patched in): clang's -Werror build in make test, whose warnings on the
# solutions cover the variants' code; gcc's build builds and runs them.
all-but-variants: $(filter-out $(foreach w,$(WRONG_SRCS),$(call bin_of,$(w))),$(ALL_BINS))

# Every suite's trusted objects for one variant (the suite, the test
# support, the files its .links names): what `make check` builds before
# grading. make test builds them once per variant, so that the checks it
# runs side by side never build the same object at the same time.
TRUSTED_OBJS = $(SUPPORT_OBJS) $(foreach e,$(EXERCISES),\
    $(B)/obj/tests/$(dir $(e))test_$(notdir $(e)).o $(call links_of,$(e)))
trusted: $(sort $(TRUSTED_OBJS))

demos: $(DEMO_BINS)

# CHAPTER=N limits examples to that chapter's folder.
EXAMPLES_FOLDER = $(if $(CHAPTER),$(notdir $(wildcard chapters/$(shell printf '%02d' '$(CHAPTER)' 2>/dev/null)-*)))

examples: $(if $(EXAMPLES_FOLDER),$(filter $(B)/demos/$(EXAMPLES_FOLDER)/%,$(DEMO_BINS)),demos) \
          $(if $(wildcard book/timeline.c),$(TIMELINE))
	@if [ -n '$(CHAPTER)' ] && [ -z '$(EXAMPLES_FOLDER)' ]; then \
	    echo "examples: no chapter $(CHAPTER); chapters are: $(notdir $(wildcard chapters/[0-9][0-9]-*))"; exit 2; fi
	@TIMELINE=$(TIMELINE) book/run-demos.sh $(B)/demos build/runs $(EXAMPLES_FOLDER)
	@# Every chapter's runs are what the book's would be: it need not run them again.
	@if [ -z '$(EXAMPLES_FOLDER)' ] && [ '$(B)' = build/plain ]; then touch build/runs/.stamp; fi

test:
	@$(WBTOOLS) test

gradebook:
	@$(WBTOOLS) gradebook '$(SUBMISSIONS)' '$(CHAPTER)'

# Every chapter's measurements (chapters/NN-topic/bench.sh), results under
# build/bench/; QUICK=1 runs the small version make test uses.
BENCH_SCRIPTS := $(sort $(wildcard chapters/[0-9][0-9]-*/bench.sh))
bench: demos
	@for b in $(BENCH_SCRIPTS); do echo "bench: $$b"; \
	    bash $$b $(if $(QUICK),--quick) --demos $(B)/demos/$$(basename $$(dirname $$b)) || exit 1; done
	@echo "bench: results in build/bench/"

handout:
	@$(WBTOOLS) handout '$(DEST)' '$(CHAPTER)'

# make autograder [CHAPTER=N] [EXERCISE=NAME] [POINTS=NAME=P,...]: the
# Gradescope autograder, build/autograder/autograder.zip; make
# autograder-try SUBMISSION=DIR runs it here as Gradescope would
# (tests/support/wbtools/autograder.py).
autograder:
	@$(WBTOOLS) autograder zip '$(CHAPTER)' '$(EXERCISE)' '$(POINTS)'

autograder-try:
	@$(WBTOOLS) autograder try '$(SUBMISSION)' '$(ZIP)'

hint:
	@$(WBTOOLS) hint '$(CHAPTER)' '$(EXERCISE)' '$(RESET)'

progress:
	@CC='$(CC)' $(WBTOOLS) progress

watch:
	@CC='$(CC)' $(WBTOOLS) watch '$(CHAPTER)' '$(EXERCISE)'

# compile_commands.json for editors (clangd): the flags the Makefile uses,
# for every C file, so the contract headers resolve.
compile-commands:
	@{ echo '['; sep=; for f in $(C_FILES); do case $$f in *.c) \
	    printf '%s{"directory": "%s", "file": "%s", "arguments": ["%s", %s, "-c", "%s"]}\n' \
	    "$$sep" "$(CURDIR)" "$$f" "$(CC)" \
	    "$$(printf '"%s", ' $(CFLAGS) $(CHECK_CFLAGS) -Iexercises/$$(echo $$f | grep -oE '[0-9]{2}-[a-z0-9]+' | head -n 1) -Iexercises -Itests/support -Ichapters | sed 's/, $$//')" "$$f"; \
	    sep=,;; esac; done; echo ']'; } > compile_commands.json
	@echo "compile-commands: compile_commands.json ($$(grep -c '"file"' compile_commands.json) files)"

# --- The book ---------------------------------------------------------------
BOOK := build/book
CHAPTER_MDS := $(foreach c,$(CHAPTERS),chapters/$(c)/chapter.md)
BOOK_INPUTS := book/metadata.yaml book/preface.md $(CHAPTER_MDS)
BOOK_DEPS := $(BOOK_INPUTS) book/filters/include.lua book/filters/manpages.lua \
             book/style.css $(wildcard chapters/*/*.c chapters/*/runs) \
             $(wildcard exercises/*/*.h) build/runs/.stamp
PANDOC := pandoc --fail-if-warnings --lua-filter=book/filters/include.lua \
          --lua-filter=book/filters/manpages.lua --number-sections --toc \
          --toc-depth=2 --highlight-style=tango --resource-path=.:book

FIGURE_SRCS := $(wildcard chapters/*/*.dot)
FIGURES_SVG := $(patsubst chapters/%.dot,build/figures/%.svg,$(FIGURE_SRCS))
# Chapter 7's plots are SVGs drawn by its bench.sh, kept with the recorded
# run the chapter quotes; the chapter shows them as figure:07-every-way/NAME.
BENCH_RUN := chapters/07-every-way/results/2026-12-07-quiet
BENCH_PLOTS := $(patsubst $(BENCH_RUN)/%.svg,build/figures/07-every-way/%.svg,$(wildcard $(BENCH_RUN)/*.svg))
FIGURES_SVG += $(BENCH_PLOTS)
FIGURES_PDF := $(FIGURES_SVG:.svg=.pdf)
TIMELINE := build/tools/timeline

$(TIMELINE): book/timeline.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L -O2 $(WARN) -o $@ $<

build/figures/%.svg: chapters/%.dot
	@mkdir -p $(@D)
	@dot -Tsvg -o $@ $<

$(BENCH_PLOTS): build/figures/07-every-way/%.svg: $(BENCH_RUN)/%.svg
	@mkdir -p $(@D)
	@cp $< $@

build/figures/%.pdf: build/figures/%.svg
	@rsvg-convert -f pdf -o $@ $<

# The site: a page per chapter, written by book/filters/site.lua in the run
# that writes the one-page book (pictures and the listings' sources copied
# beside the pages).
SITE := $(BOOK)/html
SITE_FILES := book/filters/site.lua book/site/page.html book/site/site.css book/site/site.js

book: deps docs $(BOOK)/workbook.html $(SITE)/index.html $(BOOK)/workbook.pdf $(BOOK)/workbook.epub
	@echo "book: $(BOOK)/workbook.html, $(SITE)/index.html, $(BOOK)/workbook.pdf, $(BOOK)/workbook.epub"

build/runs/.stamp: $(DEMO_BINS) $(wildcard chapters/*/runs) $(if $(wildcard book/timeline.c),$(TIMELINE))
	@TIMELINE=$(TIMELINE) book/run-demos.sh $(B)/demos build/runs
	@touch $@

$(BOOK)/workbook.html $(SITE)/index.html &: $(BOOK_DEPS) $(FIGURES_SVG) $(SITE_FILES)
	@rm -rf $(SITE)
	@mkdir -p $(SITE)
	@echo "book: HTML, on one page and as a site"
	@$(PANDOC) --standalone --self-contained --css=book/style.css \
	    --lua-filter=book/filters/site.lua -M site-dir=$(SITE) \
	    -M book-format=html -o $(BOOK)/workbook.html $(BOOK_INPUTS)
	@cp book/style.css book/site/site.css book/site/site.js $(SITE)/

$(BOOK)/workbook.pdf: $(BOOK_DEPS) book/pdf-header.tex $(FIGURES_PDF)
	@mkdir -p $(@D)
	@echo "book: PDF (xelatex)"
	@$(PANDOC) --pdf-engine=xelatex -H book/pdf-header.tex \
	    -M book-format=pdf -o $@ $(BOOK_INPUTS)

$(BOOK)/workbook.epub: $(BOOK_DEPS) $(FIGURES_SVG)
	@mkdir -p $(@D)
	@echo "book: EPUB"
	@$(PANDOC) --css=book/style.css -M book-format=epub -o $@ $(BOOK_INPUTS)

docs: $(wildcard exercises/*/*.h) book/Doxyfile book/api-backlinks.awk $(CHAPTER_MDS)
	@mkdir -p build/docs
	@echo "docs: Doxygen reference of every contract"
	@doxygen book/Doxyfile > build/docs/doxygen.log
	@echo "docs: build/docs/html/index.html"

# --- Housekeeping ------------------------------------------------------------
C_FILES = $(shell find chapters exercises solutions tests -name '*.[ch]' | sort)

format:
	@clang-format -i $(C_FILES)

format-check:
	@clang-format --dry-run --Werror $(C_FILES) && echo "format-check: every C file follows .clang-format"

stubs-manifest:
	@sha256sum $(sort $(wildcard exercises/*/*.c)) > exercises/stubs.sha256
	@echo "stubs-manifest: exercises/stubs.sha256"

clean:
	rm -rf build
