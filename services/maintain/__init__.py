"""``linewatch maintain``: the pilot's maintenance policy acting live on the line's topics."""
