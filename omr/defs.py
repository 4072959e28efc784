"""Every recognition threshold in one place, in physical units where it has one.

Distances are millimetres on the printed page; fills are the share of a box
interior covered by ink (0..1); darkness is how much darker than the local
paper a pixel is (0 = paper, 1 = black).
"""

# --- input ---------------------------------------------------------------
MAX_PIXELS = 120_000_000  # refuse images larger than this (a 600-dpi A3 is ~70 MP)
MAX_SIDE_PX = 20_000  # refuse images with a side longer than this
MAX_FILE_PAGES = 2_000  # refuse files that claim more pages than this
WORK_LONG_SIDE_PX = 4_200  # pages are scaled down to at most this long side on load (a 360-dpi A4; phone photos keep their detail)
PDF_RENDER_DPI = 200  # resolution for PDF pages that are not a single scanned image
BLANK_INK_DARKNESS = 0.35  # a blank page (an empty back side) has no pixel this much darker than its paper: show-through stays lighter
BLANK_MAX_INK_SHARE = 0.0002  # ... or almost none (dust); a form's print, a pen note or a photo's background have far more

# --- alignment -----------------------------------------------------------
MIN_MARKERS = 2  # fewer corner markers than this: the page cannot be placed (2: a similarity fit, lower quality)
ALIGN_GOOD_RMS_MM = 0.35  # marker corner residual that counts as a perfect fit
ALIGN_MAX_RMS_MM = 2.5  # beyond this the fit is rejected
REFINE_SEARCH_MM = 1.6  # how far a box's printed border is searched around its expected place
MIN_LOCATED_SHARE = 0.5  # a page finding fewer printed box borders than this is misplaced: every field to review

# --- marks ---------------------------------------------------------------
SHADING_KERNEL_MM = 7.0  # the paper's own level: ink (box borders, text, marks) narrower than this is closed over
SHADING_MIN_RANGE = 0.10  # the aligned page's paper varies by more than this share: divided by it before measuring
INTERIOR_INSET_MM = 0.75  # measure inside the printed border, this far in from its outer edge
RING_INNER_MM = 0.9  # the ring outside a box, for a mark drawn around it and for the paper level
RING_OUTER_MM = 1.8
INK_DARKNESS = 0.28  # a pixel this much darker than the paper is ink
FAINT_DARKNESS = 0.14  # a pixel this much darker is at least faint ink (light pencil, an erasure)
# blur (omr/blur.py): the faint-ink threshold follows what a thin stroke keeps of its darkness
BLUR_SHARP_MM = 0.15  # the marker edges' blur sigma up to which a page counts as sharp (scans: ~0.1 mm)
BLUR_THIN_STROKE_MM = 0.25  # the stroke the threshold is scaled for: a fine gel pen
BLUR_MIN_FAINT_SCALE = 0.4  # the threshold is never lowered below this share of FAINT_DARKNESS (noise, JPEG)
BLUR_INSET_SIGMAS = 1.5  # ... and boxes are measured this many (extra) blur sigmas further in from their border
BLUR_MAX_EXTRA_INSET_MM = 0.8  # at most this much further (a 4 mm box keeps a 0.9 mm interior)
FAINT_FILL = 0.05  # faint ink over this share of an otherwise empty box: a person must look
EMPTY_FILL = 0.025  # below: nothing in the box
SPECK_FILL = 0.003  # ... unless the field would read blank, its other boxes are clean (CLEAN_FILL) and this one holds
CLEAN_FILL = 0.0005  # this much ink (3 px of a 4.5 mm box at 200 dpi): what a 1-bit threshold leaves of a fine pen
MARK_FILL = 0.05  # at or above (with enough extent): a deliberate mark
MARK_SPAN = 0.55  # a deliberate mark reaches across at least this share of the interior
STROKE_FAINT_FILL = 0.12  # or: at least faint ink over this share, reaching across (a light or blurred stroke)
STRONG_FILL = 0.20  # at or above: a mark whatever its shape
FILLED_FILL = 0.72  # at or above: a solidly filled box (a cancelled choice beside a cross)
SOLIDITY_BAND = 0.2  # within this of FILLED_FILL a box may be a thick felt-tip cross (0.6-0.8) or a fill: a
                     # correction resting on it is not sure (wider, and genuine scribbled fills of 0.85 go to review too)
RING_MARK_FILL = 0.10  # ink over this share of the ring with an empty interior: a ring drawn around
# A stroke through a box (a note running across the row, an arrow): ink connected to the interior that
# reaches further than THROUGH_BEYOND_MM outside the box in two opposite directions, and is one line inside
# it, along those directions (a cross much bigger than the box reaches out as far, but is two lines). Never an answer.
THROUGH_WINDOW_MM = 6.0  # how far around the box the stroke is followed
THROUGH_BEYOND_MM = 2.5  # a cross overshooting a 5 mm box ends ~1.4 mm outside; a note goes on to the next box
THROUGH_MIN_FAR_PX = 10  # pixels of the stroke a direction needs (aligned page px: ~1.2 mm of a thin line)
THROUGH_MAX_ROUNDNESS = 0.2  # the interior ink's spread across its main line over the spread along it (a line: < 0.1, a cross: ~1)
THROUGH_AXIS_DEG = 30.0  # how far that line may turn from the direction the ink goes on in
THROUGH_RULE_TOL_MM = 0.4  # a printed rule is masked this far either side of where the layout draws it

# --- decisions -----------------------------------------------------------
ALIKE_FILL_RATIO = 1.6  # a multiple-choice field with ink in every box, all but one within this ratio: background, to review
ACCEPT_CONFIDENCE = 0.75  # a field below this goes to a reviewer
TEXT_INK_MM2 = 2.0  # ink (printed rules removed) in a free-text area that counts as writing: a short word

# --- scanner streaks (omr/streaks.py) -------------------------------------------
# In raw scan pixels: a streak is a property of the scanner, not of the printed page.
STREAK_NEIGHBOUR_PX = 4  # a streak pixel is darker than the pixels this far to both sides
STREAK_CONTRAST = 20  # by at least this many grey levels (of 255)
STREAK_SAMPLE_STEP = 8  # look at every 8th row (column): a streak is long, the test cheap (every 16th missed some)
STREAK_MIN_SHARE = 0.75  # dark along at least this share of its length
STREAK_END_SHARE = 0.35  # and in both end tenths, where printed rules never are (~0); a QR code's columns score ~0.15
STREAK_MAX_WIDTH_PX = 6  # wider dark bands are not dust lines
STREAK_EDGE_PX = 12  # lines hugging the image border are the scanner bed's edge
