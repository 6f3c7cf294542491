"""Pictures turned the way their display matrix says, for the ladder.

Phones store a portrait video as landscape pictures plus a display matrix
("turn 90 degrees to show"). MP4 carries that matrix and players obey it, but
MPEG-TS segments have nowhere to put it: an HLS rung made from the pictures as
stored would play sideways. So the ladder turns each decoded picture first
(FFmpeg's transpose/flip filters) and plans its rungs on the turned size.
"""

from fractions import Fraction

import av

# Counter-clockwise quarter turns -> the filters that make them (PyAV's rotation is
# counter-clockwise, as FFmpeg's av_display_rotation_get).
FILTERS = {
    1: [("transpose", "cclock")],
    2: [("hflip", None), ("vflip", None)],
    3: [("transpose", "clock")],
}


def quarter_turns(rotation):
    """0..3 counter-clockwise quarter turns for a rotation in degrees (others snap)."""
    return round((rotation or 0) / 90) % 4


class Upright:
    """Turns pictures by ``rotation`` degrees counter-clockwise; a no-op for 0."""

    def __init__(self, rotation):
        self.turns = quarter_turns(rotation)
        self.graph = self.shape = None

    def size(self, width, height):
        """The size of a ``width`` x ``height`` picture once turned."""
        return (height, width) if self.turns % 2 else (width, height)

    def __call__(self, frame):
        if not self.turns:
            return frame
        shape = (frame.width, frame.height, frame.format.name)
        if shape != self.shape:  # a stream may change size mid-way: a graph per shape
            self.graph, self.shape = self._graph(frame), shape
        self.graph.push(frame)
        return self.graph.pull()

    def _graph(self, frame):
        graph = av.filter.Graph()
        previous = graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format,
            time_base=frame.time_base or Fraction(1, 90000),
        )
        for name, argument in FILTERS[self.turns]:
            node = graph.add(name, argument)
            previous.link_to(node)
            previous = node
        sink = graph.add("buffersink")
        previous.link_to(sink)
        graph.configure()
        return graph
