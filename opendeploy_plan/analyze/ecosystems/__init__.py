"""One detector per ecosystem: pure functions from a RepoView and a folder to a Detection."""
