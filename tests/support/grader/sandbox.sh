# The sandbox every step that touches the learner's code runs in
# (sourced by tests/support/grade.sh).
#
# With Bubblewrap (bwrap) working, a command runs:
# - in new PID, network, IPC, UTS and mount namespaces: everything it
#   starts dies with it, its loopback is its own (servers of two runs
#   never share a port), and it cannot see or signal other processes;
# - with the whole file system read-only, a private /tmp and /dev/shm
#   (the workbook stays visible even when it lives under /tmp), and one
#   folder of its own writable (its outputs);
# - as a user of its own when the grader runs as root (from uid 64000 up,
#   see claim_uids), so runs side by side cannot signal or trace each
#   other, and the process cap of one does not count the other's;
# - with caps on processes, file size, memory and time.
# Without bwrap (or without user namespaces) it says so once and runs the
# command in a session of its own, as 'nobody' when root: what escapes the
# session can survive; the other caps still hold.

SANDBOX_MODE= # bwrap or session
SANDBOX_UID_BASE= # set by sandbox_init: this run's first user id
NPROC_LIMIT=${NPROC_LIMIT:-256}           # processes a run may have
OUTPUT_LIMIT_KB=${OUTPUT_LIMIT_KB:-65536} # largest file (and log) a run may write
MEMORY_LIMIT_KB=${MEMORY_LIMIT_KB:-1048576} # data a plain run may map (RLIMIT_DATA)

# claim_uids: give this run a range of 16 user ids no other grader on the
# machine uses while it runs (graders side by side, make test beside a
# learner's make check, a gradebook's learners), held by a lock on a file
# until the run ends.
claim_uids() {
    local k
    [ "$(id -u)" -eq 0 ] || { SANDBOX_UID_BASE=0; return 0; }
    mkdir -p /tmp/wb-grader-uids 2>/dev/null
    for ((k = 0; k < 1000; k++)); do
        exec {SANDBOX_LOCK_FD}>"/tmp/wb-grader-uids/$k.lock" || continue
        if flock -n "$SANDBOX_LOCK_FD"; then
            SANDBOX_UID_BASE=$((64000 + k * 16))
            return 0
        fi
        exec {SANDBOX_LOCK_FD}>&-
    done
    echo "check: no free range of user ids for the sandbox" >&2
    return 1
}

# as_slot_user SLOT: the command prefix that drops root to the slot's user.
as_slot_user() {
    [ "$(id -u)" -eq 0 ] || return 0
    local uid=$((SANDBOX_UID_BASE + $1))
    printf '%s\n' setpriv --reuid="$uid" --regid="$uid" --clear-groups
}

bwrap_works() {
    command -v bwrap >/dev/null 2>&1 || return 1
    local -a user
    mapfile -t user < <(as_slot_user 0)
    "${user[@]}" bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp \
        --unshare-all --die-with-parent --new-session true >/dev/null 2>&1
}

# sandbox_init: claim user ids, and choose the mode once per run; say why
# when it is not bwrap.
sandbox_init() {
    claim_uids || return 1
    local -a user
    mapfile -t user < <(as_slot_user 0)
    if [ ${#user[@]} -gt 0 ] && ! "${user[@]}" test -r tests/support/wb.h -a -x tests/support; then
        echo "check: the sandbox's user (uid $SANDBOX_UID_BASE) cannot read this folder, and the tests never run as root: make it readable to all (chmod -R a+rX on the workbook and the folders above it), or run make check as an ordinary user" >&2
        return 1
    fi
    if bwrap_works; then
        SANDBOX_MODE=bwrap
    else
        SANDBOX_MODE=session
        if command -v bwrap >/dev/null 2>&1; then
            echo "check: note: Bubblewrap cannot start here (user namespaces disabled?); the tests run without a sandbox, in a session of their own" >&2
        else
            echo "check: note: Bubblewrap (bwrap) is not installed (make deps installs it); the tests run without a sandbox, in a session of their own" >&2
        fi
    fi
}

# sandboxed SLOT RWDIR SECONDS MEMORY_KB CMD...
# Runs CMD (absolute paths, or found on PATH=/usr/local/bin:/usr/bin:/bin)
# from the top folder of the workbook, with RWDIR (which must exist and
# belong to the slot's user) as the only writable folder besides a private
# /tmp. MEMORY_KB 0 sets no memory cap (the sanitizers map terabytes of
# shadow memory). The environment is only what CMD's env sets. Returns
# CMD's status; 124 or 137 when it ran past SECONDS.
sandboxed() {
    local slot=$1 rw=$2 secs=$3 mem=$4
    shift 4
    local -a user
    mapfile -t user < <(as_slot_user "$slot")
    (
        ulimit -f "$OUTPUT_LIMIT_KB" 2>/dev/null
        [ "$mem" -gt 0 ] && ulimit -d "$mem" 2>/dev/null
        if [ "$(id -u)" -eq 0 ]; then
            ulimit -u "$NPROC_LIMIT" 2>/dev/null
        else
            # Everything of this user counts: leave room above what runs.
            ulimit -u "$(($(ps -U "$(id -u)" -o pid= | wc -l) + NPROC_LIMIT))" 2>/dev/null
        fi
        if [ "$SANDBOX_MODE" = bwrap ]; then
            exec timeout --kill-after=2 "$secs" "${user[@]}" \
                bwrap --ro-bind / / --dev /dev --proc /proc \
                --tmpfs /tmp --tmpfs /dev/shm --ro-bind "$PWD" "$PWD" --bind "$rw" "$rw" \
                --unshare-all --die-with-parent --new-session \
                --chdir "$PWD" "$@"
        else
            exec timeout --kill-after=2 "$secs" setsid "${user[@]}" "$@"
        fi
    )
}

# sandbox_dir SLOT DIR: make DIR, a fresh folder the slot's user owns.
sandbox_dir() {
    rm -rf "$2" && mkdir -p "$2" || return 1
    if [ "$(id -u)" -eq 0 ]; then
        chown "$((SANDBOX_UID_BASE + $1)):$((SANDBOX_UID_BASE + $1))" "$2"
    fi
}

# sandbox_kill_slot SLOT: kill what the slot's user still runs (only the
# fallback mode can leave anything; bwrap's namespaces die with it).
sandbox_kill_slot() {
    [ "$SANDBOX_MODE" = session ] && [ "$(id -u)" -eq 0 ] &&
        pkill -KILL -U "$((SANDBOX_UID_BASE + $1))" 2>/dev/null
    return 0
}

# copy_out SRC DEST: copy a file the sandbox wrote, only when it is a
# regular file (never a link the code under test could have made).
copy_out() {
    [ -f "$1" ] && [ ! -L "$1" ] && cp --no-dereference -- "$1" "$2"
}
