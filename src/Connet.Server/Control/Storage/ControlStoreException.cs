namespace Connet.Server.Control.Storage;

/// <summary>The persistent control store could not be opened or read; <see cref="Path"/> names the file.</summary>
public sealed class ControlStoreException : Exception
{
    public ControlStoreException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The database file concerned.</summary>
    public string Path { get; }
}
