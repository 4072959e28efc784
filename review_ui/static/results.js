// The results page of a round: figures exactly as /api/indices gives them, never recomputed here.
"use strict";
officePage(["admin", "operator", "reviewer", "viewer"], async () => {});
