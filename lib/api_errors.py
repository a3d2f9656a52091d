"""The API's error answers: the one body every refusal of the API's own handlers has, declared on
every operation so that clients (and the schema test) can rely on it."""
from ninja import Schema


class Problem(Schema):
    detail: str
    errors: list[dict] | None = None  # what was invalid, for a 422 of request validation


# Answers any operation may give, whatever it declares itself: the API's handlers give them (an
# unparseable body or a request Django refuses: 400; no or a bad token: 401; a role without the
# permission: 403; an object that does not exist: 404; input that fails validation: 422).
WHY = {
    400: "The request could not be read (e.g. a body that is not JSON)",
    401: "No valid bearer token (or staff session)",
    403: "The signed-in role does not allow this",
    404: "No such object",
    422: "Invalid input: `detail` says what, `errors` lists each field for a validation failure",
}


def declare_common_answers(document: dict) -> dict:
    """Add the API-wide error answers to each operation of an OpenAPI ``document`` that does not
    declare them itself: 401/403 where the operation needs a token, 404 where its path names an
    object, 400 and 422 everywhere."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    answer = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            codes = [400, 422]
            if operation.get("security"):
                codes += [401, 403]
            if "{" in path:
                codes.append(404)
            responses = operation.setdefault("responses", {})
            for code in codes:
                if code not in responses and str(code) not in responses:
                    responses[code] = {"description": WHY[code], **answer}
    return document
