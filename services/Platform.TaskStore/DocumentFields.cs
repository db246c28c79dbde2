namespace Platform.TaskStore;

/// <summary>
/// Marten keeps each document as JSON in a <c>data</c> column, with property names as in C# and enums as
/// their names (<c>EnumStorage.AsString</c>). The few queries written in SQL (all in this project) reach a
/// document's fields only through these, so that the layout is spelled once and a renamed property or
/// state breaks the build rather than a query.
/// </summary>
internal static class DocumentFields
{
    /// <summary>The field <paramref name="property"/> of the document aliased <paramref name="alias"/>, as text.</summary>
    public static string Text(string alias, string property) => $"{alias}.data ->> '{property}'";

    /// <summary>The enum field <paramref name="property"/> holds one of <paramref name="values"/>.</summary>
    public static string OneOf<TEnum>(string alias, string property, params TEnum[] values) where TEnum : struct, Enum =>
        $"{Text(alias, property)} in ({string.Join(", ", values.Select(v => $"'{v}'"))})";

    /// <summary>The enum field <paramref name="property"/> holds <paramref name="value"/>.</summary>
    public static string Is<TEnum>(string alias, string property, TEnum value) where TEnum : struct, Enum =>
        $"{Text(alias, property)} = '{value}'";

    /// <summary>The enum field <paramref name="property"/> does not hold <paramref name="value"/>.</summary>
    public static string IsNot<TEnum>(string alias, string property, TEnum value) where TEnum : struct, Enum =>
        $"{Text(alias, property)} <> '{value}'";
}
