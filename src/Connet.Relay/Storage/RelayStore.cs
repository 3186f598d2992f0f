using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace Connet.Relay.Storage;

/// <summary>
/// What a relay remembers across restarts (Go connet's relay <c>config</c> log): the stateless reset key, the ID of
/// the control server it belongs to and the reconnect token that keeps its relay ID. With a directory the values
/// live in SQLite <c>relay.db</c> (WAL, one exclusive connection, so two relays cannot share a directory);
/// without one they live as long as the process.
/// </summary>
internal sealed class RelayStore : IDisposable
{
    public const string FileName = "relay.db";

    private const int StatelessResetKeyLength = 32;
    private const string StatelessResetKeyName = "stateless-reset";
    private const string ControlIdName = "control-id";
    private const string ControlReconnectName = "control-reconnect";

    private readonly Lock _gate = new();
    private readonly SqliteConnection? _connection;
    private readonly Dictionary<string, byte[]> _values = new(StringComparer.Ordinal);
    private bool _disposed;

    private RelayStore(SqliteConnection? connection)
    {
        _connection = connection;
    }

    public byte[] StatelessResetKey { get; private set; } = [];

    /// <summary>Opens <c>relay.db</c> in <paramref name="directory"/> (created if missing), or a store in memory when null.</summary>
    /// <exception cref="RelayStoreException">The file is locked by another relay, corrupted or not a database.</exception>
    public static RelayStore Open(string? directory)
    {
        if (directory is null)
        {
            var memory = new RelayStore(null);
            memory.StatelessResetKey = RandomNumberGenerator.GetBytes(StatelessResetKeyLength);
            return memory;
        }

        string path = Path.GetFullPath(Path.Combine(directory, FileName));
        SqliteConnection? connection = null;
        try
        {
            Directory.CreateDirectory(directory);
            connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadWriteCreate,

                // A pooled connection would keep the file (and its exclusive lock) open after Dispose.
                Pooling = false,
                DefaultTimeout = 5,
            }.ToString());
            connection.Open();
            var store = new RelayStore(connection);
            store.Execute("PRAGMA locking_mode = EXCLUSIVE;");
            store.Execute("PRAGMA journal_mode = WAL;");
            store.Execute("PRAGMA synchronous = NORMAL;");
            store.Execute("CREATE TABLE IF NOT EXISTS config (name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);");
            store.Load();
            byte[]? resetKey = store.Get(StatelessResetKeyName);
            if (resetKey is null)
            {
                resetKey = RandomNumberGenerator.GetBytes(StatelessResetKeyLength);
                store.Put(StatelessResetKeyName, resetKey);
            }
            else if (resetKey.Length != StatelessResetKeyLength)
            {
                throw new RelayStoreException($"{path}: the stored {StatelessResetKeyName} key is {resetKey.Length} bytes, not {StatelessResetKeyLength}; the file is damaged.");
            }

            store.StatelessResetKey = resetKey;
            return store;
        }
        catch (Exception failed) when (failed is SqliteException or IOException or UnauthorizedAccessException)
        {
            connection?.Dispose();
            throw new RelayStoreException($"Cannot open the relay store {path}: {failed.Message}", failed);
        }
        catch
        {
            connection?.Dispose();
            throw;
        }
    }

    /// <summary>The ID of the control server this relay belongs to; null until the first successful authentication.</summary>
    public string? ControlId
    {
        get
        {
            byte[]? value = Get(ControlIdName);
            return value is null ? null : System.Text.Encoding.UTF8.GetString(value);
        }
    }

    /// <summary>The reconnect token control gave last; empty when none.</summary>
    public byte[] ControlReconnectToken => Get(ControlReconnectName) ?? [];

    public void SetControlId(string controlId) => Put(ControlIdName, System.Text.Encoding.UTF8.GetBytes(controlId));

    public void SetControlReconnectToken(ReadOnlySpan<byte> token) => Put(ControlReconnectName, token.ToArray());

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _connection?.Dispose();
        }
    }

    private byte[]? Get(string name)
    {
        lock (_gate)
        {
            return _values.TryGetValue(name, out var value) ? value : null;
        }
    }

    private void Put(string name, byte[] value)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is not null)
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "INSERT INTO config (name, value) VALUES ($name, $value) ON CONFLICT(name) DO UPDATE SET value = excluded.value;";
                command.Parameters.AddWithValue("$name", name);
                command.Parameters.AddWithValue("$value", value);
                command.ExecuteNonQuery();
            }

            _values[name] = value;
        }
    }

    private void Load()
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = "SELECT name, value FROM config;";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            _values[reader.GetString(0)] = (byte[])reader.GetValue(1);
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection!.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

/// <summary>The relay's store cannot be opened or is damaged.</summary>
public sealed class RelayStoreException : Exception
{
    public RelayStoreException(string message)
        : base(message)
    {
    }

    public RelayStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
