namespace Connet.Host.Configuration;

/// <summary>Every configuration problem found, each as <c>file:line: [section] message</c>, so all are reported at once.</summary>
internal sealed class ConfigErrors
{
    /// <summary>No more are kept: a hostile or garbled file must not produce unbounded output.</summary>
    public const int MaxErrors = 100;

    private readonly List<string> _messages = [];

    public IReadOnlyList<string> Messages => _messages;

    public bool HasErrors => _messages.Count > 0;

    public void Add(ConfigLocation location, string message)
    {
        if (_messages.Count < MaxErrors)
        {
            _messages.Add($"{location}: {message}");
        }
    }

    public void Add(ConfigLocation location, string section, string message) => Add(location, $"[{section}] {message}");

    public void ThrowIfAny()
    {
        if (HasErrors)
        {
            throw new ConfigException(_messages);
        }
    }
}

/// <summary>The configuration (files, flags or environment) is wrong; the process exits with code 2.</summary>
internal sealed class ConfigException(IReadOnlyList<string> errors) : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
