/*
 * timeline.c: draw a trace written by chapters/trace.h as a timeline, an
 * SVG picture for the book and a compact text version for the terminal.
 *
 * Usage: timeline [--svg FILE] [--text] [--title TEXT] [--width PX] [--slots]
 *                 TRACE
 *
 *   TRACE         the trace file, or - for standard input
 *   --svg FILE    write the SVG picture to FILE (- for standard output)
 *   --text        print the text timeline on standard output (the default
 *                 when --svg is not given)
 *   --title TEXT  a title above the picture (and the text timeline)
 *   --width PX    width of the picture in pixels (default 960)
 *   --slots       one lane per slot instead of per process and thread:
 *                 each span goes to the first lane that is free when it
 *                 starts, so a pool that runs each job in a new process
 *                 shows as many lanes as it ran jobs at once at most
 *
 * A trace has one span per line, "<pid> <thread> <start_ns> <end_ns>
 * <label>", with times from CLOCK_MONOTONIC; blank lines and lines that
 * start with # are skipped. Each (pid, thread) gets a lane, lanes in the
 * order of their first start. Times are shown in milliseconds from the
 * earliest start. A span's colour depends on its label only (with digits
 * ignored, so "One 3" and "One 4" match), so a label keeps its colour
 * from one picture to the next. The same trace always gives the same
 * bytes. A span too short to be seen at the picture's scale (a callback
 * of a few microseconds in a run of 80 ms) is still drawn: 5 px wide in
 * the SVG, side by side with the short ones before it, and in the text in
 * the nearest free column (see draw_lane()).
 *
 * Exit status: 0 drawn, 1 the trace is malformed, empty or unreadable or
 * the output cannot be written, 2 wrong usage.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define TEXT_COLUMNS 60   /* width of the text timeline's bar area */
#define TEXT_NAME_MAX 32  /* widest lane name in the text timeline */
#define KEY_MAX 8         /* letters explained under the text timeline */
#define TEXT_EXTRA 6      /* columns past the end for short spans moved there */
#define MAX_ROWS 6        /* stacked rows in one SVG lane for overlaps */
#define DEFAULT_WIDTH 960 /* pixels */
#define MAX_RANGE_NS 1000000000000000 /* 10^15 ns, about 11.6 days */

static const char *program = "timeline";
static int by_slot; /* --slots */

/* One line of the trace. */
struct span {
    uint64_t pid, thread; /* with --slots: the slot, and 0 */
    uint64_t process;     /* the pid the trace gave */
    int64_t start, end;
    char *label;
    size_t line; /* line number in the trace, for errors and order */
    int row;     /* row inside its lane in the SVG */
};

/* One (pid, thread): its spans are spans[begin..end) once sorted. */
struct lane {
    uint64_t pid, thread;
    int64_t first; /* earliest start */
    size_t begin, end;
    size_t order;  /* position among the lanes */
    int number;    /* thread number within its process, from 1 */
    int threads;   /* how many lanes the process has */
    int rows;      /* rows used in the SVG */
    char name[64]; /* "process 12, thread 2" */
};

struct trace {
    struct span *spans;
    size_t count, cap;
    struct lane *lanes;
    size_t lane_count;
    int64_t t0, t1; /* earliest start, latest end */
};

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (q == NULL) {
        fprintf(stderr, "%s: out of memory\n", program);
        exit(1);
    }
    return q;
}

/* ---- Reading the trace ---------------------------------------------- */

/* Read a decimal number of at most max at *p; leading blanks are
   skipped and the number must be followed by a blank or the end.
   Returns 0 and moves *p past it, or -1. */
static int parse_number(char **p, uint64_t max, uint64_t *out)
{
    char *s = *p;
    uint64_t v = 0;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (*s != ' ' && *s != '\t' && *s != '\0')
        return -1;
    *p = s;
    *out = v;
    return 0;
}

/* The length of the valid UTF-8 sequence at u, or 0 if there is none
   (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_length(const unsigned char *u)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;

    if (u[0] >= 0xc2 && u[0] <= 0xdf)
        len = 2;
    else if (u[0] >= 0xe0 && u[0] <= 0xef)
        len = 3;
    else if (u[0] >= 0xf0 && u[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (u[0] == 0xe0)
        lo = 0xa0;
    else if (u[0] == 0xed)
        hi = 0x9f;
    else if (u[0] == 0xf0)
        lo = 0x90;
    else if (u[0] == 0xf4)
        hi = 0x8f;
    if (u[1] < lo || u[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((u[k] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* Make a label safe for SVG and the terminal: control characters become
   spaces and bytes that are not valid UTF-8 become '?'. In place. */
static void clean_label(char *s)
{
    unsigned char *u = (unsigned char *)s;
    size_t i = 0;

    while (u[i] != '\0') {
        size_t len;
        if (u[i] < 0x80) {
            if (u[i] < 0x20 || u[i] == 0x7f)
                u[i] = ' ';
            i++;
        } else if ((len = utf8_length(u + i)) > 0) {
            i += len;
        } else {
            u[i++] = '?';
        }
    }
}

/* Parse one line into sp. Returns NULL or what is wrong with it. */
static const char *parse_line(char *s, struct span *sp)
{
    static const char *names[] = {"pid", "thread", "start_ns", "end_ns"};
    static char why[80];
    uint64_t v[4];
    size_t n;

    for (int i = 0; i < 4; i++) {
        uint64_t max = i < 2 ? UINT64_MAX : (uint64_t)INT64_MAX;
        if (parse_number(&s, max, &v[i]) == -1) {
            snprintf(why, sizeof why,
                     "field %d (%s) is not a whole number in range", i + 1,
                     names[i]);
            return why;
        }
    }
    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    sp->pid = v[0];
    sp->process = v[0];
    sp->thread = v[1];
    sp->start = (int64_t)v[2];
    sp->end = (int64_t)v[3];
    sp->label = xrealloc(NULL, n + 1);
    memcpy(sp->label, s, n + 1);
    clean_label(sp->label);
    sp->row = 0;
    return NULL;
}

/* Read the whole trace. On a bad line: message with its number, exit 1. */
static void read_trace(const char *path, struct trace *t)
{
    const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, number = 0;
    ssize_t len;

    if (in == NULL) {
        fprintf(stderr, "%s: %s: %s\n", program, shown, strerror(errno));
        exit(1);
    }
    while ((len = getline(&line, &cap, in)) != -1) {
        char *s = line;
        const char *why;
        struct span sp;

        number++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if ((size_t)len != strlen(line)) {
            fprintf(stderr,
                    "%s: %s:%zu: malformed line: it contains a NUL byte\n",
                    program, shown, number);
            exit(1);
        }
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        if (*s == '\0' || *s == '#')
            continue;
        why = parse_line(s, &sp);
        if (why != NULL) {
            fprintf(stderr,
                    "%s: %s:%zu: malformed line: %s\n"
                    "  expected: <pid> <thread> <start_ns> <end_ns> <label>\n",
                    program, shown, number, why);
            exit(1);
        }
        if (sp.end < sp.start) {
            fprintf(stderr,
                    "%s: %s:%zu: the span ends before it starts "
                    "(end_ns %lld < start_ns %lld)\n",
                    program, shown, number, (long long)sp.end,
                    (long long)sp.start);
            exit(1);
        }
        sp.line = number;
        if (t->count == t->cap) {
            t->cap = t->cap == 0 ? 256 : t->cap * 2;
            t->spans = xrealloc(t->spans, t->cap * sizeof *t->spans);
        }
        t->spans[t->count++] = sp;
    }
    if (ferror(in)) {
        fprintf(stderr, "%s: %s: %s\n", program, shown, strerror(errno));
        exit(1);
    }
    free(line);
    if (in != stdin && fclose(in) == EOF) {
        fprintf(stderr, "%s: %s: %s\n", program, shown, strerror(errno));
        exit(1);
    }
    if (t->count > 0) {
        int64_t lo = t->spans[0].start, hi = t->spans[0].end;
        for (size_t i = 1; i < t->count; i++) {
            if (t->spans[i].start < lo)
                lo = t->spans[i].start;
            if (t->spans[i].end > hi)
                hi = t->spans[i].end;
        }
        if (hi - lo > MAX_RANGE_NS) {
            fprintf(stderr,
                    "%s: %s: the spans cover more than 10^15 ns (11 days); "
                    "were all times taken from CLOCK_MONOTONIC?\n",
                    program, shown);
            exit(1);
        }
    }
    if (t->count == 0) {
        fprintf(stderr,
                "%s: %s: the trace has no spans (was WB_TRACE set when the "
                "program ran?)\n",
                program, shown);
        exit(1);
    }
}

/* ---- Lanes ------------------------------------------------------------ */

static int cmp_u64(uint64_t a, uint64_t b)
{
    return (a > b) - (a < b);
}
static int cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* Spans by lane, then start, longer first (so an enclosing span takes
   the top row), then line: a total order, so the result never depends
   on qsort. */
static int cmp_span(const void *pa, const void *pb)
{
    const struct span *a = pa, *b = pb;
    int c = cmp_u64(a->pid, b->pid);

    if (c == 0)
        c = cmp_u64(a->thread, b->thread);
    if (c == 0)
        c = cmp_i64(a->start, b->start);
    if (c == 0)
        c = cmp_i64(b->end, a->end);
    if (c == 0)
        c = cmp_u64(a->line, b->line);
    return c;
}

/* Lanes by first start, then pid, then thread. */
static int cmp_lane(const void *pa, const void *pb)
{
    const struct lane *a = pa, *b = pb;
    int c = cmp_i64(a->first, b->first);

    if (c == 0)
        c = cmp_u64(a->pid, b->pid);
    if (c == 0)
        c = cmp_u64(a->thread, b->thread);
    return c;
}

/* Lane pointers by pid, then position: numbers a process's threads. */
static int cmp_lane_in_process(const void *pa, const void *pb)
{
    const struct lane *a = *(const struct lane *const *)pa;
    const struct lane *b = *(const struct lane *const *)pb;
    int c = cmp_u64(a->pid, b->pid);

    return c != 0 ? c : cmp_u64(a->order, b->order);
}

/* Pack the spans of a lane into rows so that overlapping spans (a task
   inside a task) are stacked, not hidden; past MAX_ROWS they share the
   row that frees first. */
static void pack_rows(struct trace *t, struct lane *l)
{
    int64_t row_end[MAX_ROWS];

    l->rows = 0;
    for (size_t i = l->begin; i < l->end; i++) {
        struct span *sp = &t->spans[i];
        int r = 0;

        while (r < l->rows && row_end[r] > sp->start)
            r++;
        if (r == l->rows) {
            if (l->rows < MAX_ROWS) {
                l->rows++;
            } else {
                r = 0;
                for (int k = 1; k < MAX_ROWS; k++)
                    if (row_end[k] < row_end[r])
                        r = k;
            }
        }
        row_end[r] = sp->end;
        sp->row = r;
    }
}

/* Spans by start, longer first, then line. */
static int cmp_span_start(const void *pa, const void *pb)
{
    const struct span *a = pa, *b = pb;
    int c = cmp_i64(a->start, b->start);

    if (c == 0)
        c = cmp_i64(b->end, a->end);
    if (c == 0)
        c = cmp_u64(a->line, b->line);
    return c;
}

/* --slots: give each span, in order of start, the lowest slot that is
   free by then; the slot becomes its lane (pid = slot, thread = 0). */
static void assign_slots(struct trace *t)
{
    int64_t *slot_end = NULL;
    size_t slots = 0;

    qsort(t->spans, t->count, sizeof *t->spans, cmp_span_start);
    for (size_t i = 0; i < t->count; i++) {
        struct span *sp = &t->spans[i];
        size_t k = 0;
        while (k < slots && slot_end[k] > sp->start)
            k++;
        if (k == slots) {
            slot_end = xrealloc(slot_end, (slots + 1) * sizeof *slot_end);
            slots++;
        }
        slot_end[k] = sp->end;
        sp->pid = k + 1;
        sp->thread = 0;
    }
    free(slot_end);
}

static void build_lanes(struct trace *t)
{
    struct lane **by_process;
    size_t cap = 0;

    qsort(t->spans, t->count, sizeof *t->spans, cmp_span);
    t->t0 = t->spans[0].start;
    t->t1 = t->spans[0].end;
    for (size_t i = 0; i < t->count; i++) {
        struct span *sp = &t->spans[i];
        if (sp->start < t->t0)
            t->t0 = sp->start;
        if (sp->end > t->t1)
            t->t1 = sp->end;
        if (i == 0 || sp->pid != sp[-1].pid || sp->thread != sp[-1].thread) {
            if (t->lane_count == cap) {
                cap = cap == 0 ? 16 : cap * 2;
                t->lanes = xrealloc(t->lanes, cap * sizeof *t->lanes);
            }
            t->lanes[t->lane_count++] = (struct lane){.pid = sp->pid,
                                                      .thread = sp->thread,
                                                      .first = sp->start,
                                                      .begin = i,
                                                      .end = i + 1};
        } else {
            t->lanes[t->lane_count - 1].end = i + 1;
        }
    }
    qsort(t->lanes, t->lane_count, sizeof *t->lanes, cmp_lane);

    by_process = xrealloc(NULL, t->lane_count * sizeof *by_process);
    for (size_t i = 0; i < t->lane_count; i++) {
        t->lanes[i].order = i;
        by_process[i] = &t->lanes[i];
    }
    qsort(by_process, t->lane_count, sizeof *by_process, cmp_lane_in_process);
    for (size_t i = 0, j; i < t->lane_count; i = j) {
        for (j = i;
             j < t->lane_count && by_process[j]->pid == by_process[i]->pid; j++)
            by_process[j]->number = (int)(j - i + 1);
        for (size_t k = i; k < j; k++)
            by_process[k]->threads = (int)(j - i);
    }
    free(by_process);

    for (size_t i = 0; i < t->lane_count; i++) {
        struct lane *l = &t->lanes[i];
        if (by_slot)
            snprintf(l->name, sizeof l->name, "slot %llu",
                     (unsigned long long)l->pid);
        else if (l->threads == 1)
            snprintf(l->name, sizeof l->name, "process %llu",
                     (unsigned long long)l->pid);
        else
            snprintf(l->name, sizeof l->name, "process %llu, thread %d",
                     (unsigned long long)l->pid, l->number);
        pack_rows(t, l);
    }
}

/* ---- Numbers ---------------------------------------------------------- */

/* ns as milliseconds with the given number of decimals (0 to 6). */
static void format_ms(char *buf, size_t size, int64_t ns, int decimals)
{
    int64_t unit = 1, scale = 1;

    for (int i = decimals; i < 6; i++)
        unit *= 10;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    ns = (ns + unit / 2) / unit;
    if (decimals == 0)
        snprintf(buf, size, "%lld", (long long)ns);
    else
        snprintf(buf, size, "%lld.%0*lld", (long long)(ns / scale), decimals,
                 (long long)(ns % scale));
}

/* Decimals that show a total of ns with about four significant digits. */
static int total_decimals(int64_t ns)
{
    return ns >= 100000000 ? 1 : ns >= 10000000 ? 2 : ns >= 1000000 ? 3 : 6;
}

/* The smallest round step (1, 2 or 5 times a power of ten, in ns) that
   cuts range into at most max_ticks steps. *decimals gets the decimals
   its labels need in milliseconds. */
static int64_t tick_step(int64_t range, int64_t max_ticks, int *decimals)
{
    static const int64_t mant[] = {1, 2, 5};
    int64_t power = 1;
    int exponent = 0;

    if (max_ticks < 1)
        max_ticks = 1;
    for (;;) {
        for (int i = 0; i < 3; i++) {
            int64_t step = mant[i] * power;
            if (range / step < max_ticks ||
                (range / step == max_ticks && range % step == 0)) {
                *decimals = exponent >= 6 ? 0 : 6 - exponent;
                return step;
            }
        }
        if (power > INT64_MAX / 50)
            break; /* only for absurd ranges, refused by read_trace() */
        power *= 10;
        exponent++;
    }
    *decimals = 0;
    return range;
}

/* ---- SVG -------------------------------------------------------------- */

/* Colours by label: fill, outline, text. Mid-light tones with dark text
   read on the picture's own white background in any page theme. */
static const struct {
    const char *fill, *edge, *ink;
} palette[] = {
    {"#c4cad2", "#7d8793", "#15191e"}, /* grey: "main", "sleep" */
    {"#f4b870", "#c07f2e", "#2b1a05"}, /* orange: "Two" */
    {"#ec8f8f", "#b85353", "#2e0b0b"}, /* red */
    {"#86cfc4", "#3f9589", "#0b2623"}, /* teal */
    {"#c6a2d8", "#8a63a0", "#22132b"}, /* purple */
    {"#a3d18f", "#5e9a48", "#13260b"}, /* green */
    {"#efd46f", "#b39a2a", "#2b2405"}, /* yellow */
    {"#8cb4dc", "#4f7fae", "#10202e"}, /* blue: "One" */
};

static size_t colour_of(const char *label)
{
    uint32_t h = 2166136261u; /* FNV-1a, digits skipped */

    for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
        if (*p >= '0' && *p <= '9')
            continue;
        h ^= *p;
        h *= 16777619u;
    }
    return h % (sizeof palette / sizeof palette[0]);
}

/* A generous estimate of the width of s in a sans-serif font of size
   px, so that a label said to fit really does. */
static double text_width(const char *s, double px)
{
    double em = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c & 0xc0) == 0x80)
            continue; /* UTF-8 continuation byte */
        if (strchr(" .,:;'|!ijlft()[]", c) != NULL)
            em += 0.34;
        else if (c == 'm' || c == 'w' || c == 'M' || c == 'W')
            em += 0.92;
        else if (c >= 'A' && c <= 'Z')
            em += 0.72;
        else
            em += 0.62;
    }
    return em * px;
}

static void put_escaped(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            putc(*s, out);
        }
    }
}

/* Layout, in pixels. */
#define PAD 16.0
#define BAR_H 20.0
#define ROW_GAP 4.0
#define LANE_PAD 6.0
#define AXIS_H 46.0
#define MIN_BAR_W 5.0 /* narrowest bar: shorter spans are drawn this wide */
#define MAX_NUDGE                                                              \
    30.0 /* farthest a short bar moves to clear the one before                 \
          */

/* One bar with its tooltip: the span's own times, wherever it is drawn. */
static void draw_bar(FILE *out, const struct trace *t, const struct lane *l,
                     const struct span *sp, double x, double w, double y,
                     int decimals)
{
    size_t c = colour_of(sp->label);
    double by = y + LANE_PAD + sp->row * (BAR_H + ROW_GAP);
    char a[32], b[32], d[32];

    format_ms(a, sizeof a, sp->start - t->t0, decimals);
    format_ms(b, sizeof b, sp->end - t->t0, decimals);
    format_ms(d, sizeof d, sp->end - sp->start, decimals);
    fputs("<g><title>", out);
    put_escaped(out, sp->label);
    if (by_slot)
        fprintf(out, " (%s, process %llu): %s to %s ms, %s ms</title>", l->name,
                (unsigned long long)sp->process, a, b, d);
    else
        fprintf(out, " (%s): %s to %s ms, %s ms</title>", l->name, a, b, d);
    fprintf(out,
            "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
            "rx=\"%.1f\" fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"/>",
            x, by, w, BAR_H, w >= 6 ? 3.0 : 0.0, palette[c].fill,
            palette[c].edge, w >= 3 ? "1" : "0");
    if (sp->label[0] != '\0' && text_width(sp->label, 11) + 10 <= w) {
        fprintf(out,
                "<text x=\"%.2f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">",
                x + 5, by + BAR_H / 2 + 4, palette[c].ink);
        put_escaped(out, sp->label);
        fputs("</text>", out);
    }
    fputs("</g>\n", out);
}

static void write_svg(FILE *out, const struct trace *t, const char *title,
                      int width)
{
    int64_t range = t->t1 - t->t0 > 0 ? t->t1 - t->t0 : 1;
    double name_w = 0, plot_x, plot_w, y, top, axis_y, height;
    int64_t step, axis_ns;
    int decimals, span_decimals = total_decimals(range) > 3 ? 6 : 3;
    char total[32], a[32];
    int widened = 0;

    for (size_t i = 0; i < t->lane_count; i++) {
        double w = text_width(t->lanes[i].name, 12);
        if (w > name_w)
            name_w = w;
    }
    plot_x = PAD + name_w + 16;
    plot_w = width - plot_x - PAD - 14;
    if (plot_w < 120) {
        plot_w = 120;
        width = (int)(plot_x + plot_w + PAD + 14 + 0.5);
    }
    /* The axis ends on a tick when that wastes little room, else just
       after the last span. */
    step = tick_step(range, (int64_t)(plot_w / 70), &decimals);
    axis_ns = (range + step - 1) / step * step;
    if ((double)axis_ns > (double)range * 1.08)
        axis_ns = range + range / 50 + 1;
    for (size_t k = 0; k < t->count && !widened; k++)
        widened = (double)(t->spans[k].end - t->spans[k].start) * plot_w /
                      (double)axis_ns <
                  MIN_BAR_W;

    y = PAD;
    top = y + (title != NULL ? 24 : 0) + 22;
    axis_y = top;
    for (size_t i = 0; i < t->lane_count; i++)
        axis_y += 2 * LANE_PAD + t->lanes[i].rows * BAR_H +
                  (t->lanes[i].rows - 1) * ROW_GAP;
    height = axis_y + AXIS_H + PAD / 2;

    fprintf(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
        "height=\"%.0f\" viewBox=\"0 0 %d %.0f\" font-family=\"sans-serif\" "
        "font-size=\"12\">\n",
        width, height, width, height);
    fputs("<title>", out);
    put_escaped(out, title != NULL ? title : "timeline");
    fputs("</title>\n", out);
    fprintf(out,
            "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%.0f\" rx=\"6\" "
            "fill=\"#ffffff\"/>\n",
            width, height);

    /* Title and summary. */
    format_ms(total, sizeof total, t->t1 - t->t0,
              total_decimals(t->t1 - t->t0));
    if (title != NULL) {
        fprintf(out,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"16\" "
                "font-weight=\"bold\" fill=\"#1a1a1a\">",
                PAD, y + 14);
        put_escaped(out, title);
        fputs("</text>\n", out);
        y += 24;
    }
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" fill=\"#555555\">%zu %s, %zu %s, "
            "%s ms from the first start to the last end%s</text>\n",
            PAD, y + 11, t->lane_count, t->lane_count == 1 ? "lane" : "lanes",
            t->count, t->count == 1 ? "span" : "spans", total,
            widened ? "; shorter spans are drawn 5 px wide, side by side" : "");

    /* Lanes: stripes and names. */
    y = top;
    for (size_t i = 0; i < t->lane_count; i++) {
        const struct lane *l = &t->lanes[i];
        double h = 2 * LANE_PAD + l->rows * BAR_H + (l->rows - 1) * ROW_GAP;
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"%s\"/>\n",
                PAD, y, width - 2 * PAD, h, i % 2 == 0 ? "#f1f3f6" : "#ffffff");
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#1a1a1a\">%s</text>\n",
                PAD + 8, y + LANE_PAD + BAR_H / 2 + 4, l->name);
        y += h;
    }

    /* Grid and axis. */
    fprintf(out, "<g stroke=\"#d5d9df\" stroke-width=\"1\">\n");
    for (int64_t v = 0; v <= axis_ns; v += step) {
        double x = plot_x + (double)v * plot_w / (double)axis_ns;
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x,
                top, x, axis_y);
    }
    fputs("</g>\n", out);
    fprintf(out,
            "<g stroke=\"#444444\" stroke-width=\"1\">\n"
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            plot_x, axis_y + 0.5, plot_x + plot_w, axis_y + 0.5);
    for (int64_t v = 0; v <= axis_ns; v += step) {
        double x = plot_x + (double)v * plot_w / (double)axis_ns;
        fprintf(out,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x,
                axis_y, x, axis_y + 5);
    }
    fputs(
        "</g>\n<g fill=\"#333333\" font-size=\"11\" text-anchor=\"middle\">\n",
        out);
    for (int64_t v = 0; v <= axis_ns; v += step) {
        double x = plot_x + (double)v * plot_w / (double)axis_ns;
        format_ms(a, sizeof a, v, v == 0 ? 0 : decimals);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, axis_y + 18,
                a);
    }
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#555555\">"
            "time (ms)</text>\n</g>\n",
            plot_x + plot_w / 2, axis_y + 37);

    /* Bars: the long ones first, then the short ones on top of them. */
    y = top;
    for (size_t i = 0; i < t->lane_count; i++) {
        const struct lane *l = &t->lanes[i];
        for (int pass = 0; pass < 2; pass++) {
            double row_end[MAX_ROWS];
            for (int r = 0; r < MAX_ROWS; r++)
                row_end[r] = 0;
            for (size_t k = l->begin; k < l->end; k++) {
                const struct span *sp = &t->spans[k];
                double x = plot_x + (double)(sp->start - t->t0) * plot_w /
                                        (double)axis_ns;
                double w =
                    (double)(sp->end - sp->start) * plot_w / (double)axis_ns;
                if ((w < MIN_BAR_W) != (pass == 1))
                    continue;
                if (w < MIN_BAR_W) {
                    /* Side by side with the short one before, unless that
                       would carry it far from where it starts. */
                    w = MIN_BAR_W;
                    if (x < row_end[sp->row] + 1 &&
                        row_end[sp->row] + 1 - x <= MAX_NUDGE)
                        x = row_end[sp->row] + 1;
                    row_end[sp->row] = x + w;
                }
                draw_bar(out, t, l, sp, x, w, y, span_decimals);
            }
        }
        y += 2 * LANE_PAD + l->rows * BAR_H + (l->rows - 1) * ROW_GAP;
    }
    fputs("</svg>\n", out);
}

/* ---- Text ------------------------------------------------------------- */

/* The column of time ns (from t0) on a bar area of TEXT_COLUMNS. */
static int column_of(int64_t ns, int64_t range)
{
    int c = (int)((double)ns * TEXT_COLUMNS / (double)range);
    return c < 0 ? 0 : c >= TEXT_COLUMNS ? TEXT_COLUMNS - 1 : c;
}

/* The letter that stands for a span in the text timeline: the first
   character of its label, or '*' for a label that does not start with a
   printable one. */
static char text_mark(const char *label)
{
    unsigned char first = (unsigned char)label[0];
    return first > 0x20 && first < 0x7f ? (char)first : '*';
}

/* Under the text timeline, which labels each letter stands for: the
   earliest label (by start time) that begins with it, and how many more
   do. At most KEY_MAX letters are listed, in the order the lanes show
   them. @p flipped: some letters were drawn in the other case; @p moved:
   some spans were drawn next to their own column. */
static void write_key(FILE *out, const struct trace *t, int indent, int flipped,
                      int moved)
{
    char seen[128] = {0};
    int listed = 0;

    for (size_t i = 0; i < t->count; i++) {
        char mark = text_mark(t->spans[i].label);
        const char *first = NULL;
        int64_t t_first = INT64_MAX;
        size_t n = 0;
        if (seen[(unsigned char)mark])
            continue;
        seen[(unsigned char)mark] = 1;
        if (listed == KEY_MAX) {
            fputs(", ...", out);
            break;
        }
        for (size_t k = i; k < t->count; k++) {
            const struct span *sp = &t->spans[k];
            if (text_mark(sp->label) != mark)
                continue;
            n++;
            if (sp->start < t_first) {
                t_first = sp->start;
                first = sp->label;
            }
        }
        if (listed == 0)
            fprintf(out, "%*s key: ", indent, "");
        else
            fputs(", ", out);
        fprintf(out, "%c = %.40s", mark, first);
        if (n > 1)
            fprintf(out, " and %zu more", n - 1);
        listed++;
    }
    if (listed > 0 && flipped)
        fputs("; a letter switches case where one span follows another", out);
    if (listed > 0 && moved)
        fputs("; spans too short for a column of their own sit side by side",
              out);
    if (listed > 0)
        fputc('\n', out);
}

/* The last column of a span that starts in column c0 and ends at end_ns
   (from t0): a span that ends exactly on a column's left edge does not
   reach into that column. */
static int last_column(int c0, int64_t end_ns, int64_t range)
{
    int c1 = column_of(end_ns, range);
    if (c1 > c0 && (double)end_ns * TEXT_COLUMNS / (double)range == (double)c1)
        c1--;
    return c1;
}

/* Draw lane l into cells (TEXT_COLUMNS + TEXT_EXTRA wide, spaces) and
   return how many columns it used. Spans are drawn over their columns
   in time order. A span whose only column an earlier span already drew
   in would vanish (a 5 us timer next to a read, timers bunched after a
   long callback), so it goes to the next column if no span's time falls
   there, or past the end of the bar area for at most extra columns
   (returns -1 if they do not fit there: draw again with extra 0, since
   a long tail of moved spans would look like time that never passed);
   a one-column span whose successor starts in the same column takes the
   empty column before it instead, so a long span keeps its first column.
   Spans that overlap in time still show as '#'. *moved is set when a
   span was drawn away from its own column, *flipped when a letter
   switched case. */
static int draw_lane(const struct trace *t, const struct lane *l, int64_t range,
                     int extra, char *cells, int *moved, int *flipped)
{
    enum { COLS = TEXT_COLUMNS + TEXT_EXTRA };
    long owner[COLS];
    int occupied[TEXT_COLUMNS] = {0}; /* spans whose time falls in a column */
    int cursor = 0, used = 0, flip = 0, last_start = -1;
    int64_t busy_until = INT64_MIN;
    char prev = 0;

    for (int c = 0; c < COLS; c++) {
        owner[c] = -1;
        cells[c] = ' ';
    }
    for (size_t k = l->begin; k < l->end; k++) {
        const struct span *sp = &t->spans[k];
        int c0 = column_of(sp->start - t->t0, range);
        for (int c = c0; c <= last_column(c0, sp->end - t->t0, range); c++)
            occupied[c]++;
    }
    for (size_t k = l->begin; k < l->end; k++) {
        const struct span *sp = &t->spans[k];
        char mark = text_mark(sp->label);
        int c0 = column_of(sp->start - t->t0, range);
        int c1 = last_column(c0, sp->end - t->t0, range);
        int s = c0, e = c1;

        /* Back-to-back spans with one letter ("task 1", "task 2")
           alternate its case, so the border between them shows. */
        flip = mark == prev && isalpha((unsigned char)mark) ? !flip : 0;
        prev = mark;
        *flipped |= flip;
        if (flip)
            mark = (char)(islower((unsigned char)mark)
                              ? toupper((unsigned char)mark)
                              : tolower((unsigned char)mark));
        if (sp->start >= busy_until) { /* after every earlier span */
            const struct span *next = k + 1 < l->end ? &t->spans[k + 1] : NULL;
            if (s == e && next != NULL && next->start >= sp->end &&
                column_of(next->start - t->t0, range) == s && s - 1 >= cursor &&
                occupied[s - 1] == 0) {
                s = e = s - 1;
            } else if (e < cursor) {
                int free = cursor >= TEXT_COLUMNS
                               ? cursor < TEXT_COLUMNS + extra
                               : occupied[cursor] == 0;
                if (free)
                    s = e = cursor;
                else if (cursor >= TEXT_COLUMNS && extra > 0)
                    return -1; /* too many for the room past the end */
            } else if (s < cursor && last_start >= s) {
                s = cursor; /* its first column shows the short one before */
            }
            if (s != c0)
                *moved = 1;
        }
        for (int c = s; c <= e; c++) {
            if (cells[c] == '#')
                continue;
            if (owner[c] >= 0 && t->spans[owner[c]].end > sp->start)
                cells[c] = '#';
            else
                cells[c] = mark;
            if (owner[c] < 0 || sp->end > t->spans[owner[c]].end)
                owner[c] = (long)k;
        }
        if (e + 1 > cursor)
            cursor = e + 1;
        last_start = s;
        if (e + 1 > used)
            used = e + 1;
        if (sp->end > busy_until)
            busy_until = sp->end;
    }
    return used;
}

static void write_text(FILE *out, const struct trace *t, const char *title)
{
    int64_t range = t->t1 - t->t0 > 0 ? t->t1 - t->t0 : 1, limit;
    int name_w = 0, decimals, next_free, flipped = 0, moved = 0;
    int width = TEXT_COLUMNS;
    int64_t step;
    char total[32], label[TEXT_COLUMNS + TEXT_EXTRA + 64];
    char axis[TEXT_COLUMNS + TEXT_EXTRA + 3];
    char *rows = xrealloc(NULL, (t->lane_count > 0 ? t->lane_count : 1) *
                                    (TEXT_COLUMNS + TEXT_EXTRA + 1));

    for (size_t i = 0; i < t->lane_count; i++) {
        int n = (int)strlen(t->lanes[i].name);
        if (n > name_w)
            name_w = n;
    }
    if (name_w > TEXT_NAME_MAX)
        name_w = TEXT_NAME_MAX;
    format_ms(total, sizeof total, t->t1 - t->t0,
              total_decimals(t->t1 - t->t0));
    if (title != NULL)
        fprintf(out, "%s\n", title);
    fprintf(out, "total %s ms: %zu %s, %zu %s\n", total, t->lane_count,
            t->lane_count == 1 ? "lane" : "lanes", t->count,
            t->count == 1 ? "span" : "spans");

    /* Every lane first: spans moved past the end widen all of them. */
    for (size_t i = 0; i < t->lane_count; i++) {
        char *cells = rows + i * (TEXT_COLUMNS + TEXT_EXTRA + 1);
        int used = draw_lane(t, &t->lanes[i], range, TEXT_EXTRA, cells, &moved,
                             &flipped);
        if (used < 0)
            used =
                draw_lane(t, &t->lanes[i], range, 0, cells, &moved, &flipped);
        if (used > width)
            width = used;
    }
    for (size_t i = 0; i < t->lane_count; i++) {
        char *cells = rows + i * (TEXT_COLUMNS + TEXT_EXTRA + 1);
        cells[width] = '\0';
        fprintf(out, "%-*.*s |%s|\n", name_w, name_w, t->lanes[i].name, cells);
    }
    free(rows);

    /* Axis: the corner stands for 0, a '+' marks the column of each
       round tick after it, labels start under their mark. Columns past
       TEXT_COLUMNS go on at the same scale. */
    step = tick_step(range, 6, &decimals);
    limit = range +
            (int64_t)((double)range * (width - TEXT_COLUMNS) / TEXT_COLUMNS);
    memset(axis, '-', sizeof axis);
    axis[0] = '+';
    axis[width + 1] = '+';
    axis[width + 2] = '\0';
    memset(label, ' ', sizeof label);
    next_free = 0;
    for (int64_t v = 0; v <= limit; v += step) {
        int c =
            v == 0 ? 0
            : v >= range
                ? TEXT_COLUMNS + 1 +
                      (int)((double)(v - range) * TEXT_COLUMNS / (double)range)
                : column_of(v, range) + 1;
        char num[32];
        int n;
        if (c > width + 1)
            break;
        axis[c] = '+';
        format_ms(num, sizeof num, v, v == 0 ? 0 : decimals);
        n = (int)strlen(num);
        if (c >= next_free && c + n + 4 < (int)sizeof label) {
            memcpy(label + c, num, (size_t)n);
            next_free = c + n + 1;
        }
    }
    memcpy(label + next_free, "ms", 3);
    fprintf(out, "%*s %s\n%*s %s\n", name_w, "", axis, name_w, "", label);
    write_key(out, t, name_w, flipped, moved);
}

/* ---- Main ------------------------------------------------------------- */

static void free_trace(struct trace *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->spans[i].label);
    free(t->spans);
    free(t->lanes);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s [--svg FILE] [--text] [--title TEXT] [--width PX] "
            "[--slots] TRACE\n"
            "  TRACE lines: <pid> <thread> <start_ns> <end_ns> <label>"
            " (- reads stdin)\n",
            program);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *svg = NULL, *title = NULL, *path = NULL;
    int text = 0, width = DEFAULT_WIDTH, status = 0;
    struct trace t = {0};

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(arg, "--svg") == 0 && has_value) {
            svg = argv[++i];
        } else if (strcmp(arg, "--text") == 0) {
            text = 1;
        } else if (strcmp(arg, "--slots") == 0) {
            by_slot = 1;
        } else if (strcmp(arg, "--title") == 0 && has_value) {
            title = argv[++i];
        } else if (strcmp(arg, "--width") == 0 && has_value) {
            char *end;
            long w;
            errno = 0;
            w = strtol(argv[++i], &end, 10);
            if (errno != 0 || *end != '\0' || w < 320 || w > 20000) {
                fprintf(stderr, "%s: --width wants pixels from 320 to 20000\n",
                        program);
                usage();
            }
            width = (int)w;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage();
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "%s: unknown option or missing value: %s\n",
                    program, arg);
            usage();
        } else if (path == NULL) {
            path = arg;
        } else {
            fprintf(stderr, "%s: one trace at a time\n", program);
            usage();
        }
    }
    if (path == NULL)
        usage();
    if (svg == NULL)
        text = 1;
    if (title != NULL) {
        size_t n = strlen(title);
        char *copy = xrealloc(NULL, n + 1);
        memcpy(copy, title, n + 1);
        clean_label(copy);
        title = copy;
    }

    read_trace(path, &t);
    if (by_slot)
        assign_slots(&t);
    build_lanes(&t);

    if (svg != NULL) {
        int to_stdout = strcmp(svg, "-") == 0;
        FILE *out = to_stdout ? stdout : fopen(svg, "w");
        if (out == NULL) {
            fprintf(stderr, "%s: %s: %s\n", program, svg, strerror(errno));
            status = 1;
        } else {
            int failed;
            write_svg(out, &t, title, width);
            failed = ferror(out);
            if ((to_stdout ? fflush(out) : fclose(out)) == EOF || failed) {
                fprintf(stderr, "%s: %s: write failed\n", program, svg);
                status = 1;
            }
        }
    }
    if (status == 0 && text) {
        write_text(stdout, &t, title);
        if (ferror(stdout) || fflush(stdout) == EOF) {
            fprintf(stderr, "%s: standard output: write failed\n", program);
            status = 1;
        }
    }
    free_trace(&t);
    free((char *)title);
    return status;
}
