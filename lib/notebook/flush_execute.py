"""nbconvert's ExecutePreprocessor, made to wait for every output of a cell
that the Deno kernel publishes after the cell's ``status: idle``.

Why: nbclient (and so ``jupyter nbconvert --execute``) reads a cell's iopub
messages until the kernel says ``idle`` and drops whatever comes later. The
Deno kernel (2.9, ``cli/js/jupyter_kernel.js``) does not keep that order:
outputs (``execute_result``, ``display_data``, ``stream``) go through a
queue that a separate task drains onto the iopub socket, while ``idle`` is
sent directly once the cell's evaluation has returned. Whichever finishes
encoding first is sent first, so a random share of cells lose their output
(5 to 18% of one-line cells in runs here). Waiting longer (``iopub_timeout``)
does not help: the idle message does arrive.

The fix is an ordering point instead of a delay. After a cell's idle, a
silent request asks the kernel to broadcast a marker through the same
queue. The queue is first in, first out, so once the marker is on the
socket every output the cell queued is there before it. Everything that
arrives for the cell until then is kept; outputs the kernel sent under the
marker request's header (the drain task labels a message with the request
being executed when it sends it) belong to the cell as well.

Used by lib/notebook/execute.ts as
``jupyter-nbconvert --to notebook
--NotebookExporter.preprocessors=flush_execute.FlushingExecutePreprocessor``
with this folder on ``PYTHONPATH``; the ``ExecutePreprocessor.*`` options
(kernel, timeouts, ``--allow-errors``) apply to it unchanged.
"""
import uuid

from nbclient import NotebookClient
from nbclient.util import ensure_async
from nbconvert.preprocessors import ExecutePreprocessor

# The override below replaces nbclient's reader of a cell's iopub messages
# (written against nbclient 0.7, Debian bookworm's). Were it renamed, cells
# would again lose outputs without a word: refuse to run instead.
if not hasattr(NotebookClient, "_async_poll_output_msg"):
    raise ImportError(
        "flush_execute: this nbclient has no NotebookClient._async_poll_output_msg; "
        "update lib/notebook/flush_execute.py for it"
    )

#: MIME type of the marker; no front end renders it and no cell keeps it.
FLUSH_MIME = "application/x.ifrs9-flush"

#: The marker request: a display through the kernel's output queue.
FLUSH_CODE = (
    'await Deno.jupyter.broadcast("display_data", '
    '{ data: { "%s": "%s" }, metadata: {}, transient: {} });'
)


class FlushingExecutePreprocessor(ExecutePreprocessor):
    """Executes each cell as ExecutePreprocessor does, then collects the
    outputs the kernel publishes after the cell's idle, up to a marker."""

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        # Until the cell's idle, exactly as nbclient reads it.
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        token = uuid.uuid4().hex
        flush_id = await ensure_async(
            self.kc.execute(
                FLUSH_CODE % (FLUSH_MIME, token),
                silent=True,
                store_history=False,
                allow_stdin=False,
            )
        )
        # Bounded by ExecutePreprocessor.iopub_timeout, which nbclient
        # applies to this whole method once the cell's reply has arrived.
        while True:
            msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
            parent = msg["parent_header"].get("msg_id")
            if parent not in (parent_msg_id, flush_id):
                continue
            kind = msg["msg_type"]
            if kind in ("status", "execute_input"):
                continue
            data = msg["content"].get("data", {})
            if parent == flush_id and kind == "display_data" and FLUSH_MIME in data:
                if data[FLUSH_MIME] == token:
                    return
                continue
            self.process_message(msg, cell, cell_index)
