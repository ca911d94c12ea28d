enum _PlaceholderTaiGit {}
