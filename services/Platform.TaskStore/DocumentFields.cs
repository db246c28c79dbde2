namespace Platform.TaskStore;

/// <summary>
/// Marten keeps each document as JSON in a <c>data</c> column, with property names as in C# and enums as
/// their names (<c>EnumStorage.AsString</c>, for the duplicated columns too). A few fields also have a
/// column of their own (Marten duplicated fields: <see cref="Tasks.AppTask.StateColumn"/> and its
/// neighbours), which the queries use wherever they filter. The few queries written in SQL (all in this
/// project) reach a document's fields only through these, so that the layout is spelled once and a renamed
/// property or state breaks the build rather than a query.
/// </summary>
internal static class DocumentFields
{
    /// <summary>The JSON field <paramref name="property"/> of the document aliased <paramref name="alias"/>, as text.</summary>
    public static string Text(string alias, string property) => $"{alias}.data ->> '{property}'";

    /// <summary>The enum field (a column, or a <see cref="Text"/>) holds one of <paramref name="values"/>.</summary>
    public static string OneOf<TEnum>(string field, params TEnum[] values) where TEnum : struct, Enum =>
        $"{field} in ({Names(values)})";

    /// <summary>
    /// The enum field (a column, or a <see cref="Text"/>) holds none of <paramref name="values"/>. Spelled as
    /// <c>&lt;&gt;</c> terms, not <c>not in</c>: as the condition of a partial index, PostgreSQL gives
    /// <c>not in</c> back as <c>&lt;&gt; ALL (ARRAY[...])</c>, which Marten's schema check takes for a different
    /// index and rebuilds at every start.
    /// </summary>
    public static string NoneOf<TEnum>(string field, params TEnum[] values) where TEnum : struct, Enum =>
        $"({string.Join(" and ", values.Select(v => IsNot(field, v)))})";

    /// <summary>The enum field (a column, or a <see cref="Text"/>) holds <paramref name="value"/>.</summary>
    public static string Is<TEnum>(string field, TEnum value) where TEnum : struct, Enum => $"{field} = '{value}'";

    /// <summary>The enum field (a column, or a <see cref="Text"/>) does not hold <paramref name="value"/>.</summary>
    public static string IsNot<TEnum>(string field, TEnum value) where TEnum : struct, Enum => $"{field} <> '{value}'";

    private static string Names<TEnum>(TEnum[] values) where TEnum : struct, Enum => string.Join(", ", values.Select(v => $"'{v}'"));
}
