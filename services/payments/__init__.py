"""Taking money: the provider interface, its two providers, and what a settled payment does."""
