namespace Platform.Api.Http;

/// <summary>
/// What /openapi/v1.json says of a route beyond what its signature shows: its operation id and the
/// problem-details answers it can give. Handlers return <see cref="IResult"/>, so the success shapes are
/// declared beside each route with <c>Produces</c>.
/// </summary>
internal static class RouteDescriptions
{
    /// <summary>Names the operation and lists its problem answers; 422 is a validation problem (<c>errors</c> names each field).</summary>
    public static RouteHandlerBuilder Describe(this RouteHandlerBuilder route, string name, params int[] problems)
    {
        route.WithName(name);
        foreach (var status in problems)
        {
            if (status == StatusCodes.Status422UnprocessableEntity) route.ProducesValidationProblem(status);
            else route.ProducesProblem(status);
        }
        return route;
    }
}
