namespace Platform.Api.Http;

/// <summary>Cloud Foundry v3 list paging: <c>?page=1&amp;per_page=50</c>, answered with a <c>pagination</c> block.</summary>
internal sealed record PageRequest(int Page, int PerPage)
{
    public const int MaxPerPage = 5000;

    public int Skip => (Page - 1) * PerPage;

    public static bool TryRead(int? page, int? perPage, out PageRequest request, out IResult? problem)
    {
        request = new PageRequest(page ?? 1, perPage ?? 50);
        problem = request.Page < 1 ? Problems.Invalid("page", "page must be 1 or more.")
            : request.PerPage is < 1 or > MaxPerPage ? Problems.Invalid("per_page", $"per_page must be between 1 and {MaxPerPage}.")
            : null;
        return problem is null;
    }
}

internal sealed record Link(string Href);

internal sealed record Pagination(long TotalResults, long TotalPages, Link First, Link Last, Link? Next, Link? Previous);

internal sealed record Page<T>(Pagination Pagination, IReadOnlyList<T> Resources)
{
    public static Page<T> Of(IReadOnlyList<T> resources, long total, PageRequest request, string path)
    {
        var pages = Math.Max(1, (total + request.PerPage - 1) / request.PerPage);
        Link At(long page) => new($"{path}?page={page}&per_page={request.PerPage}");
        return new Page<T>(
            new Pagination(total, pages, At(1), At(pages),
                request.Page < pages ? At(request.Page + 1) : null,
                request.Page > 1 ? At(request.Page - 1) : null),
            resources);
    }
}
