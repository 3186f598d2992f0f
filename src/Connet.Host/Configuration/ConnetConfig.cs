using Microsoft.Extensions.Logging;

namespace Connet.Host.Configuration;

/// <summary>The root of a connet configuration: logging, and the section of the command being run.</summary>
internal sealed class RootSettings
{
    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    public bool JsonLogs { get; set; }
}

/// <summary>Loads and merges <c>--config</c> files and the command-line overlay, then reads sections strictly.</summary>
internal static class ConnetConfig
{
    public static readonly string[] Sections = ["client", "server", "control", "relay"];

    public static readonly string[] LogLevels = ["fine", "debug", "info", "warn", "error"];

    /// <summary>Files in order (later ones override earlier), then <paramref name="overlay"/> (the flags) on top.</summary>
    public static ConfigTable Load(IEnumerable<string> files, ConfigTable? overlay, ConfigErrors errors)
    {
        var merged = new ConfigTable(new ConfigLocation("(no configuration)", 0));
        foreach (var file in files)
        {
            if (ConfigTree.Load(file, errors) is { } table)
            {
                merged.Merge(table);
            }
        }

        if (overlay is not null)
        {
            merged.Merge(overlay);
        }

        return merged;
    }

    /// <summary>Reads the root keys; sections other than <paramref name="section"/> are left to their own commands.</summary>
    public static RootSettings ReadRoot(ConfigTable root, ConfigErrors errors)
    {
        var reader = new SectionReader(root, "root", errors);
        var settings = new RootSettings();
        settings.LogLevel = reader.Choice("log-level", LogLevels) switch
        {
            "fine" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        };
        settings.JsonLogs = reader.Choice("log-format", "text", "json") == "json";
        foreach (var section in Sections)
        {
            if (reader.Has(section) && root.Entries[section].Kind != ConfigValueKind.Table)
            {
                reader.Error(section, $"must be a table, found {ConfigValue.KindName(root.Entries[section].Kind)}");
            }
        }

        reader.Complete();
        return settings;
    }

    /// <summary>The reader of <c>[name]</c>, over an empty table when the configuration has none.</summary>
    public static SectionReader Section(ConfigTable root, string name, ConfigErrors errors)
    {
        var table = root.Entries.TryGetValue(name, out var value) && value.Kind == ConfigValueKind.Table
            ? value.Table!
            : new ConfigTable(root.Location);
        return new SectionReader(table, name, errors);
    }

    /// <summary>
    /// <c>connet check</c>: parses every file on its own and validates each section it holds, without touching the
    /// network or creating files; returns every error.
    /// </summary>
    public static IReadOnlyList<string> Check(IEnumerable<string> files, ConfigContext context)
    {
        var errors = new ConfigErrors();
        var root = Load(files, null, errors);
        if (errors.HasErrors)
        {
            return errors.Messages;
        }

        ReadRoot(root, errors);
        var present = Sections.Where(root.Entries.ContainsKey).ToList();
        if (present.Count == 0)
        {
            errors.Add(root.Location, "no [client], [server], [control] or [relay] section");
        }

        foreach (var section in present)
        {
            var reader = Section(root, section, errors);
            _ = section switch
            {
                "client" => ClientConfig.Read(reader, context),
                "server" => ServerConfigs.ReadServer(reader, context),
                "control" => ServerConfigs.ReadControl(reader, context),
                _ => (object)ServerConfigs.ReadRelay(reader, context),
            };
        }

        return errors.Messages;
    }

    /// <summary>A table of flag values to lay over the files, each located at its flag's name.</summary>
    public sealed class Overlay
    {
        public ConfigTable Root { get; } = new(new ConfigLocation("command line", 0));

        public void Set(string[] path, string? value)
        {
            if (value is not null)
            {
                SetValue(path, ConfigValue.Of(value, Flag(path)));
            }
        }

        public void Set(string[] path, bool? value)
        {
            if (value is not null)
            {
                SetValue(path, ConfigValue.Of(value.Value, Flag(path)));
            }
        }

        public void Set(string[] path, IReadOnlyList<string>? values)
        {
            if (values is { Count: > 0 })
            {
                var location = Flag(path);
                SetValue(path, ConfigValue.OfArray([.. values.Select(value => ConfigValue.Of(value, location))], location));
            }
        }

        /// <summary>Sets keys of the first element of an array of tables (<c>[[server.ingress]]</c>).</summary>
        public void SetFirst(string[] arrayPath, string key, object? value)
        {
            bool present = value switch
            {
                null => false,
                IReadOnlyList<string> list => list.Count > 0,
                _ => true,
            };
            if (!present)
            {
                return;
            }

            var location = new ConfigLocation($"command line ({key})", 0);
            var parent = Root.GetOrAddTable(arrayPath.Take(arrayPath.Length - 1), location);
            if (!parent.Entries.TryGetValue(arrayPath[^1], out var array))
            {
                array = ConfigValue.OfTableArray([ConfigValue.OfTable(new ConfigTable(location))], location);
                parent.Entries[arrayPath[^1]] = array;
            }

            var table = array.Items![0].Table!;
            table.Entries[key] = value switch
            {
                IReadOnlyList<string> list => ConfigValue.OfArray([.. list.Select(item => ConfigValue.Of(item, location))], location),
                bool flag => ConfigValue.Of(flag, location),
                _ => ConfigValue.Of((string)value!, location),
            };
        }

        private static ConfigLocation Flag(string[] path) => new($"command line ({path[^1]})", 0);

        private void SetValue(string[] path, ConfigValue value) =>
            Root.GetOrAddTable(path.Take(path.Length - 1), value.Location).Entries[path[^1]] = value;
    }
}
