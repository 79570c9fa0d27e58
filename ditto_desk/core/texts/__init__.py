"""A person's texts as plain strings: the demonstration, the request it answers, an email's own words, advice on the
list. No model, no files."""
