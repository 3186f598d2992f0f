namespace Connet.Server.Tests.Storage;

/// <summary>A fresh temporary directory, deleted (with the database) on dispose.</summary>
internal sealed class StoreDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("connet-store-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }
    }
}
