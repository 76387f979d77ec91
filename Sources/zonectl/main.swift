// Placeholder entry point; the sub-commands arrive with the foundation issue.
print("zonectl")
