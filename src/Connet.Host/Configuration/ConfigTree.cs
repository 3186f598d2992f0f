using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Connet.Host.Configuration;

/// <summary>Where a configuration value came from: a file and 1-based line, or a command-line flag.</summary>
internal readonly record struct ConfigLocation(string Source, int Line)
{
    public override string ToString() => Line > 0 ? $"{Source}:{Line}" : Source;
}

/// <summary>The kinds of TOML value a key can hold, named as errors show them.</summary>
internal enum ConfigValueKind
{
    String,
    Integer,
    Float,
    Boolean,
    DateTime,
    Array,
    Table,
    TableArray,
}

/// <summary>One TOML value with its location; tables and arrays of tables keep their children's locations.</summary>
internal sealed class ConfigValue
{
    private ConfigValue(ConfigValueKind kind, ConfigLocation location, object? scalar, List<ConfigValue>? items, ConfigTable? table)
    {
        Kind = kind;
        Location = location;
        Scalar = scalar;
        Items = items;
        Table = table;
    }

    public ConfigValueKind Kind { get; }

    public ConfigLocation Location { get; }

    /// <summary>string, long, double, bool or the date-time text.</summary>
    public object? Scalar { get; }

    /// <summary>The elements of an array or array of tables.</summary>
    public List<ConfigValue>? Items { get; }

    public ConfigTable? Table { get; }

    public static ConfigValue Of(string value, ConfigLocation location) => new(ConfigValueKind.String, location, value, null, null);

    public static ConfigValue Of(bool value, ConfigLocation location) => new(ConfigValueKind.Boolean, location, value, null, null);

    public static ConfigValue Of(long value, ConfigLocation location) => new(ConfigValueKind.Integer, location, value, null, null);

    public static ConfigValue Scalars(ConfigValueKind kind, object? value, ConfigLocation location) => new(kind, location, value, null, null);

    public static ConfigValue OfArray(List<ConfigValue> items, ConfigLocation location) => new(ConfigValueKind.Array, location, null, items, null);

    public static ConfigValue OfTable(ConfigTable table) => new(ConfigValueKind.Table, table.Location, null, null, table);

    public static ConfigValue OfTableArray(List<ConfigValue> tables, ConfigLocation location) => new(ConfigValueKind.TableArray, location, null, tables, null);

    public static string KindName(ConfigValueKind kind) => kind switch
    {
        ConfigValueKind.String => "a string",
        ConfigValueKind.Integer => "an integer",
        ConfigValueKind.Float => "a float",
        ConfigValueKind.Boolean => "a boolean",
        ConfigValueKind.DateTime => "a date-time",
        ConfigValueKind.Array => "an array",
        ConfigValueKind.Table => "a table",
        _ => "an array of tables",
    };
}

/// <summary>A TOML table: keys in file order, each with its value and location.</summary>
internal sealed class ConfigTable(ConfigLocation location)
{
    public ConfigLocation Location { get; } = location;

    public Dictionary<string, ConfigValue> Entries { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Lays <paramref name="overlay"/> over this table: tables merge key by key, arrays of tables merge element by
    /// element (so a flag can override the first <c>[[ingress]]</c>), and every other value is replaced.
    /// </summary>
    public void Merge(ConfigTable overlay)
    {
        foreach (var (key, value) in overlay.Entries)
        {
            if (!Entries.TryGetValue(key, out var existing))
            {
                Entries[key] = value;
            }
            else if (existing.Kind == ConfigValueKind.Table && value.Kind == ConfigValueKind.Table)
            {
                existing.Table!.Merge(value.Table!);
            }
            else if (existing.Kind == ConfigValueKind.TableArray && value.Kind == ConfigValueKind.TableArray)
            {
                for (int index = 0; index < value.Items!.Count; index++)
                {
                    if (index < existing.Items!.Count)
                    {
                        existing.Items[index].Table!.Merge(value.Items[index].Table!);
                    }
                    else
                    {
                        existing.Items.Add(value.Items[index]);
                    }
                }
            }
            else
            {
                Entries[key] = value;
            }
        }
    }

    /// <summary>The table at <paramref name="path"/>, created (at <paramref name="location"/>) where missing.</summary>
    public ConfigTable GetOrAddTable(IEnumerable<string> path, ConfigLocation location)
    {
        var table = this;
        foreach (var part in path)
        {
            if (!table.Entries.TryGetValue(part, out var value) || value.Kind != ConfigValueKind.Table)
            {
                value = ConfigValue.OfTable(new ConfigTable(location));
                table.Entries[part] = value;
            }

            table = value.Table!;
        }

        return table;
    }
}

/// <summary>Reads TOML files into <see cref="ConfigTable"/>s that remember each key's file and line.</summary>
internal static class ConfigTree
{
    /// <summary>TOML files larger than this are refused: a configuration is a few kilobytes.</summary>
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>Parses <paramref name="path"/>; syntax errors are added to <paramref name="errors"/> and give null.</summary>
    public static ConfigTable? Load(string path, ConfigErrors errors)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                errors.Add(new ConfigLocation(path, 0), "file not found");
                return null;
            }

            if (info.Length > MaxFileBytes)
            {
                errors.Add(new ConfigLocation(path, 0), $"file is larger than {MaxFileBytes} bytes");
                return null;
            }

            text = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigLocation(path, 0), $"cannot read: {exception.Message}");
            return null;
        }

        return Parse(text, path, errors);
    }

    public static ConfigTable? Parse(string text, string source, ConfigErrors errors)
    {
        DocumentSyntax document = SyntaxParser.Parse(text, source, true);
        if (document.HasErrors)
        {
            foreach (var diagnostic in document.Diagnostics.Where(diagnostic => diagnostic.Kind == DiagnosticMessageKind.Error))
            {
                errors.Add(new ConfigLocation(source, diagnostic.Span.Start.Line + 1), diagnostic.Message);
            }

            return null;
        }

        var root = new ConfigTable(new ConfigLocation(source, 1));
        foreach (var keyValue in document.KeyValues)
        {
            AddKeyValue(root, keyValue, source);
        }

        foreach (var header in document.Tables)
        {
            var location = At(source, header);
            var path = KeyParts(header.Name!);
            ConfigTable table;
            if (header is TableArraySyntax)
            {
                var parent = root.GetOrAddTable(path.Take(path.Count - 1), location);
                if (!parent.Entries.TryGetValue(path[^1], out var array) || array.Kind != ConfigValueKind.TableArray)
                {
                    array = ConfigValue.OfTableArray([], location);
                    parent.Entries[path[^1]] = array;
                }

                table = new ConfigTable(location);
                array.Items!.Add(ConfigValue.OfTable(table));
            }
            else
            {
                table = GetOrAddTableThroughArrays(root, path, location);
            }

            foreach (var keyValue in header.Items)
            {
                AddKeyValue(table, keyValue, source);
            }
        }

        return root;
    }

    /// <summary>Like <see cref="ConfigTable.GetOrAddTable"/>, but <c>[a.b]</c> after <c>[[a]]</c> means the last element of a.</summary>
    private static ConfigTable GetOrAddTableThroughArrays(ConfigTable root, List<string> path, ConfigLocation location)
    {
        var table = root;
        foreach (var part in path)
        {
            if (table.Entries.TryGetValue(part, out var value) && value.Kind == ConfigValueKind.TableArray && value.Items!.Count > 0)
            {
                table = value.Items[^1].Table!;
                continue;
            }

            table = table.GetOrAddTable([part], location);
        }

        return table;
    }

    private static void AddKeyValue(ConfigTable table, KeyValueSyntax keyValue, string source)
    {
        var path = KeyParts(keyValue.Key!);
        var location = At(source, keyValue);
        var parent = table.GetOrAddTable(path.Take(path.Count - 1), location);
        parent.Entries[path[^1]] = ToValue(keyValue.Value!, location, source);
    }

    private static ConfigValue ToValue(ValueSyntax value, ConfigLocation location, string source) => value switch
    {
        StringValueSyntax text => ConfigValue.Of(text.Value ?? string.Empty, location),
        IntegerValueSyntax integer => ConfigValue.Of(integer.Value, location),
        BooleanValueSyntax boolean => ConfigValue.Of(boolean.Value, location),
        FloatValueSyntax floating => ConfigValue.Scalars(ConfigValueKind.Float, floating.Value, location),
        DateTimeValueSyntax dateTime => ConfigValue.Scalars(ConfigValueKind.DateTime, dateTime.ToString().Trim(), location),
        ArraySyntax array => ConfigValue.OfArray([.. array.Items.Select(item => ToValue(item.Value!, At(source, item), source))], location),
        InlineTableSyntax inline => ConfigValue.OfTable(InlineTable(inline, location, source)),
        _ => ConfigValue.Scalars(ConfigValueKind.String, value.ToString(), location),
    };

    private static ConfigTable InlineTable(InlineTableSyntax inline, ConfigLocation location, string source)
    {
        var table = new ConfigTable(location);
        foreach (var item in inline.Items)
        {
            AddKeyValue(table, item.KeyValue!, source);
        }

        return table;
    }

    private static List<string> KeyParts(KeySyntax key)
    {
        var parts = new List<string> { KeyPart(key.Key!) };
        foreach (var dotted in key.DotKeys)
        {
            parts.Add(KeyPart(dotted.Key!));
        }

        return parts;
    }

    private static string KeyPart(BareKeyOrStringValueSyntax key) => key switch
    {
        BareKeySyntax bare => bare.Key!.Text ?? string.Empty,
        StringValueSyntax quoted => quoted.Value ?? string.Empty,
        _ => key.ToString()?.Trim() ?? string.Empty,
    };

    private static ConfigLocation At(string source, SyntaxNode node) => new(source, node.Span.Start.Line + 1);
}
