namespace Connet.Host.Configuration;

/// <summary>What configuration reads besides the files: environment variables, and warnings to show at start.</summary>
internal sealed class ConfigContext(Func<string, string?> environment)
{
    public static ConfigContext FromProcess() => new(Environment.GetEnvironmentVariable);

    public List<string> Warnings { get; } = [];

    public string? Env(string name)
    {
        string? value = environment(name);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    /// <summary>
    /// A server's state directory: <paramref name="configured"/>, else <c>$CONNET_STATE_DIR</c>, else
    /// <c>$STATE_DIRECTORY</c> (systemd), else a new temporary directory, with a warning since its state is lost.
    /// </summary>
    public string StateDirectory(string? configured, string what)
    {
        string? directory = configured ?? Env("CONNET_STATE_DIR") ?? Env("STATE_DIRECTORY");
        if (directory is not null)
        {
            return directory;
        }

        directory = Path.Combine(Path.GetTempPath(), $"connet-{what}-{Guid.NewGuid():N}");
        Warnings.Add($"no store-dir, CONNET_STATE_DIR or STATE_DIRECTORY: {what} state goes to {directory} and is lost on restart");
        return directory;
    }

    /// <summary>The client's cache directory: <c>$CONNET_CACHE_DIR</c>, else <c>$CACHE_DIRECTORY</c>, else the user cache dir + /connet.</summary>
    public string CacheDirectory()
    {
        string? directory = Env("CONNET_CACHE_DIR") ?? Env("CACHE_DIRECTORY");
        if (directory is not null)
        {
            return directory;
        }

        string userCache = Env("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(userCache, "connet");
    }
}
