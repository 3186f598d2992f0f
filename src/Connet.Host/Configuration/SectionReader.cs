using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Host.Configuration;

/// <summary>
/// Reads one TOML table strictly: every key read is marked known, values of the wrong type or form are errors naming
/// the file, line, section and key, and <see cref="Complete"/> reports every key nobody read as unknown.
/// </summary>
internal sealed class SectionReader(ConfigTable table, string section, ConfigErrors errors)
{
    /// <summary>Lists longer than this are refused (tokens, CIDRs, hostports).</summary>
    public const int MaxListItems = 10_000;

    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly int _errorsBefore = errors.Messages.Count;

    public string Section { get; } = section;

    public ConfigErrors Errors { get; } = errors;

    public ConfigLocation Location => table.Location;

    /// <summary>Whether an error was reported since this reader was made (this section or its sub-tables).</summary>
    public bool HasErrors => Errors.Messages.Count > _errorsBefore;

    public bool Has(string key)
    {
        _known.Add(key);
        return table.Entries.ContainsKey(key);
    }

    public ConfigLocation LocationOf(string key) => table.Entries.TryGetValue(key, out var value) ? value.Location : table.Location;

    public void Error(string key, string message) => Errors.Add(LocationOf(key), Section, $"'{key}' {message}");

    public void SectionError(string message) => Errors.Add(table.Location, Section, message);

    public string? String(string key)
    {
        var value = Get(key, ConfigValueKind.String);
        return (string?)value?.Scalar;
    }

    public bool? Boolean(string key) => (bool?)Get(key, ConfigValueKind.Boolean)?.Scalar;

    public List<string>? StringList(string key)
    {
        var value = Get(key, ConfigValueKind.Array);
        if (value is null)
        {
            return null;
        }

        if (value.Items!.Count > MaxListItems)
        {
            Error(key, $"has more than {MaxListItems} items");
            return null;
        }

        var strings = new List<string>();
        foreach (var item in value.Items)
        {
            if (item.Kind != ConfigValueKind.String)
            {
                Errors.Add(item.Location, Section, $"'{key}' must be an array of strings, found {ConfigValue.KindName(item.Kind)}");
                return null;
            }

            strings.Add((string)item.Scalar!);
        }

        return strings;
    }

    public TimeSpan? Duration(string key)
    {
        string? text = String(key);
        if (text is null)
        {
            return null;
        }

        if (!GoFormats.TryParseDuration(text, out var duration) || duration < TimeSpan.Zero)
        {
            Error(key, $"'{text}' is not a duration like \"5s\", \"1m30s\" or \"250ms\"");
            return null;
        }

        return duration;
    }

    /// <summary>A listen address: <c>[host]:port</c>.</summary>
    public System.Net.IPEndPoint? ListenAddress(string key)
    {
        string? text = String(key);
        if (text is null)
        {
            return null;
        }

        if (!GoFormats.TryParseListenAddress(text, out var endPoint, out string problem))
        {
            Error(key, problem);
            return null;
        }

        return endPoint;
    }

    /// <summary>A dial address <c>host:port</c>.</summary>
    public string? HostPort(string key)
    {
        string? text = String(key);
        if (text is not null && !GoFormats.IsHostPort(text))
        {
            Error(key, $"'{text}' is not host:port");
            return null;
        }

        return text;
    }

    /// <summary>One of <paramref name="allowed"/> (case-sensitive, as Go compares them).</summary>
    public string? Choice(string key, params string[] allowed)
    {
        string? text = String(key);
        if (text is not null && !allowed.Contains(text, StringComparer.Ordinal))
        {
            Error(key, $"'{text}' is not one of {string.Join(", ", allowed.Select(choice => choice.Length == 0 ? "\"\"" : choice))}");
            return null;
        }

        return text;
    }

    /// <summary>A TOML integer within [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public long? Integer(string key, long minimum, long maximum)
    {
        var value = Get(key, ConfigValueKind.Integer);
        if (value is null)
        {
            return null;
        }

        long number = (long)value.Scalar!;
        if (number < minimum || number > maximum)
        {
            Error(key, $"{number} is not between {minimum} and {maximum}");
            return null;
        }

        return number;
    }

    /// <summary>A sub-table, or null when absent or of another type.</summary>
    public SectionReader? Table(string key, string childSection)
    {
        var value = Get(key, ConfigValueKind.Table);
        return value is null ? null : new SectionReader(value.Table!, childSection, Errors);
    }

    /// <summary>The named sub-tables of a table such as <c>[client.destinations.NAME]</c>.</summary>
    public List<(string Name, SectionReader Reader)> NamedTables(string key)
    {
        var result = new List<(string, SectionReader)>();
        var value = Get(key, ConfigValueKind.Table);
        if (value is null)
        {
            return result;
        }

        foreach (var (name, child) in value.Table!.Entries)
        {
            string childSection = $"{Section}.{key}.{name}";
            if (child.Kind != ConfigValueKind.Table)
            {
                Errors.Add(child.Location, Section, $"'{key}.{name}' must be a table, found {ConfigValue.KindName(child.Kind)}");
                continue;
            }

            result.Add((name, new SectionReader(child.Table!, childSection, Errors)));
        }

        return result;
    }

    /// <summary>The elements of an array of tables such as <c>[[server.ingress]]</c>.</summary>
    public List<SectionReader> TableArray(string key)
    {
        var result = new List<SectionReader>();
        var value = Get(key, ConfigValueKind.TableArray);
        if (value is null)
        {
            return result;
        }

        if (value.Items!.Count > 64)
        {
            Error(key, "has more than 64 entries");
            return result;
        }

        for (int index = 0; index < value.Items.Count; index++)
        {
            result.Add(new SectionReader(value.Items[index].Table!, $"{Section}.{key}[{index}]", Errors));
        }

        return result;
    }

    /// <summary>Reports every key of this table that no reader asked for.</summary>
    public void Complete()
    {
        foreach (var (key, value) in table.Entries)
        {
            if (!_known.Contains(key))
            {
                Errors.Add(value.Location, Section, $"unknown key '{key}'");
            }
        }
    }

    /// <summary>The first line of a file (tokens), or null with an error.</summary>
    public string? FirstLineOfFile(string key, string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            char[] buffer = new char[64 * 1024];
            int read = reader.ReadBlock(buffer, 0, buffer.Length);
            string text = new(buffer, 0, read);
            string line = text.Split('\n')[0].Trim();
            if (line.Length == 0)
            {
                Error(key, $"file '{path}' has an empty first line");
                return null;
            }

            return line;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Error(key, $"cannot read '{path}': {exception.Message}");
            return null;
        }
    }

    /// <summary>Every non-empty line of a file (a tokens file), or null with an error.</summary>
    public List<string>? LinesOfFile(string key, string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > ConfigTree.MaxFileBytes)
            {
                Error(key, $"file '{path}' is larger than {ConfigTree.MaxFileBytes} bytes");
                return null;
            }

            var lines = File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0).ToList();
            if (lines.Count > MaxListItems)
            {
                Error(key, $"file '{path}' has more than {MaxListItems} tokens");
                return null;
            }

            return lines;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Error(key, $"cannot read '{path}': {exception.Message}");
            return null;
        }
    }

    /// <summary>A PEM certificate with its PEM private key; each unreadable file is named with its key.</summary>
    public X509Certificate2? CertificateWithKey(string certKey, string keyKey)
    {
        string? certFile = String(certKey);
        string? keyFile = String(keyKey);
        if (certFile is null && keyFile is null)
        {
            return null;
        }

        if (certFile is null || keyFile is null)
        {
            Error(certFile is null ? keyKey : certKey, $"needs '{(certFile is null ? certKey : keyKey)}' too");
            return null;
        }

        string? certPem = PemFile(certKey, certFile);
        string? keyPem = PemFile(keyKey, keyFile);
        if (certPem is null || keyPem is null)
        {
            return null;
        }

        try
        {
            using var loaded = X509Certificate2.CreateFromPem(certPem, keyPem);

            // Round-trip through PKCS#12 so the key is usable by TLS on every platform.
            return X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception exception) when (exception is CryptographicException or ArgumentException)
        {
            Error(certKey, $"cannot load '{certFile}' with '{keyKey}' '{keyFile}': {exception.Message}");
            return null;
        }
    }

    /// <summary>A PEM bundle of certificates (certificate authorities or pinned certificates).</summary>
    public X509Certificate2Collection? CertificateBundle(string key)
    {
        string? file = String(key);
        if (file is null)
        {
            return null;
        }

        if (PemFile(key, file) is not { } pem)
        {
            return null;
        }

        try
        {
            var collection = new X509Certificate2Collection();
            collection.ImportFromPem(pem);
            if (collection.Count == 0)
            {
                Error(key, $"'{file}' holds no PEM certificate");
                return null;
            }

            return collection;
        }
        catch (CryptographicException exception)
        {
            Error(key, $"cannot load '{file}': {exception.Message}");
            return null;
        }
    }

    /// <summary>The text of a PEM file, bounded in size, or null with an error naming the key and path.</summary>
    private string? PemFile(string key, string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                Error(key, $"cannot read '{path}': the file does not exist");
                return null;
            }

            if (info.Length > ConfigTree.MaxFileBytes)
            {
                Error(key, $"file '{path}' is larger than {ConfigTree.MaxFileBytes} bytes");
                return null;
            }

            return File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Error(key, $"cannot read '{path}': {exception.Message}");
            return null;
        }
    }

    private ConfigValue? Get(string key, ConfigValueKind kind)
    {
        _known.Add(key);
        if (!table.Entries.TryGetValue(key, out var value))
        {
            return null;
        }

        if (value.Kind != kind)
        {
            Errors.Add(value.Location, Section, $"'{key}' must be {ConfigValue.KindName(kind)}, found {ConfigValue.KindName(value.Kind)}");
            return null;
        }

        return value;
    }
}
