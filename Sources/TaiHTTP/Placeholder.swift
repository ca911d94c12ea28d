enum _PlaceholderTaiHTTP {}
