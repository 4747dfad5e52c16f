"""One router per resource: parse, call one service method, shape the response."""
