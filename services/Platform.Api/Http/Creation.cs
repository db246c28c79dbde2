using Marten;

namespace Platform.Api.Http;

/// <summary>Creating a document under a unique name: an insert, never an upsert, so a second create is a 409, not a silent overwrite.</summary>
internal static class Creation
{
    public static async Task<IResult> InsertAsync<T>(IDocumentSession session, T document, string conflict, Func<IResult> created, CancellationToken ct)
        where T : notnull
    {
        session.Insert(document);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            return Problems.Conflict(conflict);
        }
        return created();
    }
}
