"""How strong a SECRET_KEY is: the one rule the production start-up refusal and the health page share."""


def secret_key_problem(key: str) -> str | None:
    """Why a SECRET_KEY is too weak for production, or None; mirrors Django's own deploy check."""
    if not key:
        return "SECRET_KEY is not set"
    if key.startswith("django-insecure-"):
        return "SECRET_KEY is the generated development key"
    if len(key) < 50:
        return f"SECRET_KEY has {len(key)} characters; use at least 50"
    if len(set(key)) < 5:
        return "SECRET_KEY has fewer than 5 distinct characters"
    return None
