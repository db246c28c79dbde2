namespace Platform.Api.Http;

/// <summary>The problem-details answers the API gives, so that every endpoint words them the same way.</summary>
internal static class Problems
{
    /// <summary>422: the request was well-formed JSON but a field breaks a rule; <c>errors</c> names each field.</summary>
    public static IResult Invalid(Dictionary<string, string[]> errors) =>
        Results.ValidationProblem(errors,
            detail: string.Join(" ", errors.Values.SelectMany(e => e)),
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "The request has invalid fields.");

    public static IResult Invalid(string field, string message) => Invalid(new() { [field] = [message] });

    public static IResult NotFound(string what, string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: $"{what} not found.",
            detail: $"No {what.ToLowerInvariant()} '{id}' exists.");

    public static IResult Forbidden(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden.", detail: detail);

    public static IResult Conflict(string detail) =>
        Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict.", detail: detail);
}
