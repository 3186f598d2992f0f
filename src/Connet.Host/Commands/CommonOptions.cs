using System.CommandLine;
using Connet.Host.Configuration;

namespace Connet.Host.Commands;

/// <summary>The options every command takes, and how flags become a configuration overlay.</summary>
internal sealed class CommonOptions
{
    public Option<string[]> Config { get; } = new("--config")
    {
        Description = "TOML configuration file; repeat to merge several (later files override earlier ones)",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> LogLevel { get; } = new("--log-level")
    {
        Description = "log level: fine, debug, info, warn or error",
        Recursive = true,
    };

    public Option<string?> LogFormat { get; } = new("--log-format")
    {
        Description = "log format: text or json",
        Recursive = true,
    };

    public static Option<string?> Text(string name, string description) => new(name) { Description = description };

    public static Option<string[]> List(string name, string description) => new(name)
    {
        Description = description + " (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<bool?> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>The overlay with the root flags set.</summary>
    public ConnetConfig.Overlay RootOverlay(ParseResult parse)
    {
        var overlay = new ConnetConfig.Overlay();
        overlay.Set(["log-level"], parse.GetValue(LogLevel));
        overlay.Set(["log-format"], parse.GetValue(LogFormat));
        return overlay;
    }

    public IReadOnlyList<string> ConfigFiles(ParseResult parse) => parse.GetValue(Config) ?? [];

    public static List<string>? NonEmpty(string[]? values) => values is { Length: > 0 } ? [.. values] : null;
}
