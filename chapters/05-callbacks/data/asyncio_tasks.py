"""asyncio_tasks.py: what Python's asyncio calls asynchronous, piece by
piece, to set beside chapter 5's C programs. Blocking work goes to a pool
thread with run_in_executor(); the loop thread awaits the result or the
exception; a time limit with wait_for(); a task cancelled; and a callback
added to a future that is already done, which still runs later.

Run: python3 data/asyncio_tasks.py   (Python 3.8 or later)
"""
import asyncio
import threading
import time


def blocking_square(n):
    """Runs on a pool thread: a blocking call, then a result or an error."""
    time.sleep(0.1)
    if n < 0:
        raise ValueError(f"no square for {n} today")
    return n * n


def slow_job():
    time.sleep(0.3)
    print("slow_job: finished anyway, on its pool thread; nobody wants it")


async def main():
    loop = asyncio.get_running_loop()
    loop_thread = threading.current_thread()

    # Submit three jobs to the default thread pool; each is a future.
    futures = [loop.run_in_executor(None, blocking_square, n) for n in (2, 3, -1)]
    # Await them all: a failure comes back as a result too.
    results = await asyncio.gather(*futures, return_exceptions=True)
    for n, r in zip((2, 3, -1), results):
        outcome = f"failed: {r}" if isinstance(r, Exception) else f"result {r}"
        print(f"square({n}): {outcome}")
    print("the await resumed on the loop thread:",
          threading.current_thread() is loop_thread)

    # A deadline: the wait ends after 50 ms, the thread does not.
    try:
        await asyncio.wait_for(loop.run_in_executor(None, slow_job), 0.05)
    except asyncio.TimeoutError:
        print("wait_for: timed out after 50 ms")

    # Cancelling a task that has not finished: awaiting it raises.
    task = asyncio.create_task(asyncio.sleep(1))
    await asyncio.sleep(0)  # let the task start
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("the task was cancelled: awaiting it raised CancelledError")

    # A callback on a future that is already done runs later, not now.
    order = []
    done = loop.create_future()
    done.set_result(42)
    done.add_done_callback(lambda f: order.append(f"callback({f.result()})"))
    order.append("add_done_callback returned")
    await asyncio.sleep(0)  # one turn of the loop
    print("order:", ", ".join(order))


asyncio.run(main())  # waits for the pool's threads before it returns
