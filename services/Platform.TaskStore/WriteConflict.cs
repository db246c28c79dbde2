namespace Platform.TaskStore;

/// <summary>
/// Recognises a write that lost to a concurrent writer: an append at a stream version that moved, or a
/// stream started under an id another writer started first. Marten 9 raises the latter as either its own
/// or JasperFx's exception type, depending on the path; callers treat all of them alike.
/// </summary>
public static class WriteConflict
{
    public static bool Is(Exception exception) =>
        exception is JasperFx.ConcurrencyException
            or JasperFx.Events.ExistingStreamIdCollisionException
            or Marten.Exceptions.ExistingStreamIdCollisionException;
}
