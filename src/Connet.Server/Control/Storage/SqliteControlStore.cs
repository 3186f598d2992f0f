using System.Security.Cryptography;
using System.Text;
using Connet.Core.Crypto;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace Connet.Server.Control.Storage;

/// <summary>
/// Keeps the control server's announcements, identity and keys in one SQLite file, <c>control.db</c>, so a
/// restarted server keeps its client IDs (reconnect tokens still open) and the announcements still in their
/// grace period.
/// </summary>
/// <remarks>
/// Announcements are also held in memory: the server reads them on every change of an endpoint, and the file
/// is only the write-through copy. One connection in exclusive WAL mode serves every call under a lock, so a
/// second server pointed at the same directory fails at open instead of silently sharing the file.
/// </remarks>
public sealed class SqliteControlStore : IControlStore, IControlServerKeys, IDisposable
{
    public const string FileName = "control.db";

    private const int KeyLength = 32;
    private const string ServerIdName = "server-id";
    private const string ReconnectTokenKeyName = "reconnect-token-key";
    private const string StatelessResetKeyName = "stateless-reset-key";
    private const string RelayAuthenticationKeyName = "relay-authentication-key";

    /// <summary>Each entry moves the schema one version up; applied in order, never edited once shipped.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE config (
            name TEXT PRIMARY KEY NOT NULL,
            value BLOB NOT NULL
        );
        CREATE TABLE peers (
            endpoint TEXT NOT NULL,
            role INTEGER NOT NULL,
            client_id TEXT NOT NULL,
            metadata TEXT NOT NULL,
            peer BLOB NOT NULL,
            expires_at_ticks INTEGER NULL,
            PRIMARY KEY (endpoint, role, client_id)
        );
        """,
    ];

    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly Dictionary<PeerKey, StoredPeer> _peers = [];
    private readonly byte[] _reconnectTokenKey;
    private readonly byte[] _statelessResetKey;
    private readonly byte[] _relayAuthenticationKey;
    private bool _disposed;

    /// <summary>Opens (creating if needed) <c>control.db</c> in <paramref name="directory"/>.</summary>
    /// <param name="directory">Created if missing.</param>
    /// <param name="timeProvider">The clock that decides which stored announcements have expired.</param>
    /// <param name="busyTimeout">How long to wait for a file another process holds before failing; default 5 s.</param>
    /// <exception cref="ControlStoreException">The file is locked, corrupted, not a database or from a newer schema.</exception>
    public SqliteControlStore(string directory, TimeProvider? timeProvider = null, TimeSpan? busyTimeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, FileName));
        var timeout = busyTimeout ?? TimeSpan.FromSeconds(5);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.FromSeconds(1), nameof(busyTimeout));
        System.IO.Directory.CreateDirectory(directory);

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,

            // A pooled connection would keep the file (and its exclusive lock) open after Dispose.
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(timeout.TotalSeconds),
        }.ToString());
        try
        {
            _connection.Open();
            Execute("PRAGMA locking_mode = EXCLUSIVE;");
            Execute("PRAGMA journal_mode = WAL;");
            Execute("PRAGMA synchronous = NORMAL;");
            Migrate();
            ServerId = Encoding.UTF8.GetString(GetOrCreateConfig(ServerIdName, () => Encoding.UTF8.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)))));
            _reconnectTokenKey = GetOrCreateConfig(ReconnectTokenKeyName, () => RandomNumberGenerator.GetBytes(KeyLength));
            _statelessResetKey = GetOrCreateConfig(StatelessResetKeyName, () => RandomNumberGenerator.GetBytes(KeyLength));
            CheckKeyLength(ReconnectTokenKeyName, _reconnectTokenKey);
            _relayAuthenticationKey = GetOrCreateConfig(RelayAuthenticationKeyName, () => NaClBox.GenerateKeyPair().PrivateKey);
            CheckKeyLength(StatelessResetKeyName, _statelessResetKey);
            CheckKeyLength(RelayAuthenticationKeyName, _relayAuthenticationKey);
            LoadPeers((timeProvider ?? TimeProvider.System).GetUtcNow());
        }
        catch (Exception failed) when (failed is not ControlStoreException)
        {
            _connection.Dispose();
            throw Describe(failed);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <summary>The schema version this code writes.</summary>
    public static int SchemaVersion => Migrations.Length;

    public string ServerId { get; }

    public ReadOnlyMemory<byte> ReconnectTokenKey => _reconnectTokenKey;

    public ReadOnlyMemory<byte> StatelessResetKey => _statelessResetKey;

    public ReadOnlyMemory<byte> RelayAuthenticationKey => _relayAuthenticationKey;

    public void PutPeer(StoredPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT INTO peers (endpoint, role, client_id, metadata, peer, expires_at_ticks)
                VALUES ($endpoint, $role, $clientId, $metadata, $peer, $expiresAt)
                ON CONFLICT (endpoint, role, client_id) DO UPDATE SET
                    metadata = excluded.metadata, peer = excluded.peer, expires_at_ticks = excluded.expires_at_ticks;
                """;
            AddKey(command, peer.Key);
            command.Parameters.AddWithValue("$metadata", peer.Metadata);
            command.Parameters.AddWithValue("$peer", peer.Peer.ToByteArray());
            command.Parameters.AddWithValue("$expiresAt", peer.ExpiresAt is { } expiresAt ? expiresAt.UtcTicks : DBNull.Value);
            Run(command);
            _peers[peer.Key] = peer;
        }
    }

    public bool RemovePeer(PeerKey key)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_peers.Remove(key))
            {
                return false;
            }

            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM peers WHERE endpoint = $endpoint AND role = $role AND client_id = $clientId;";
            AddKey(command, key);
            Run(command);
            return true;
        }
    }

    public IReadOnlyList<StoredPeer> GetPeers()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return [.. _peers.Values];
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _connection.Dispose();
            CryptographicOperations.ZeroMemory(_reconnectTokenKey);
            CryptographicOperations.ZeroMemory(_statelessResetKey);
            CryptographicOperations.ZeroMemory(_relayAuthenticationKey);
        }
    }

    private static void AddKey(SqliteCommand command, PeerKey key)
    {
        command.Parameters.AddWithValue("$endpoint", key.Endpoint);
        command.Parameters.AddWithValue("$role", (int)key.Role);
        command.Parameters.AddWithValue("$clientId", key.ClientId);
    }

    private void Run(SqliteCommand command)
    {
        try
        {
            command.ExecuteNonQuery();
        }
        catch (SqliteException failed)
        {
            throw Describe(failed);
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Migrate()
    {
        using var transaction = _connection.BeginTransaction();
        using (var create = _connection.CreateCommand())
        {
            create.Transaction = transaction;
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);";
            create.ExecuteNonQuery();
        }

        long current;
        using (var read = _connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT MAX(version) FROM schema_version;";
            current = read.ExecuteScalar() is long version ? version : 0;
        }

        if (current > Migrations.Length)
        {
            throw new ControlStoreException(Path, $"The control store '{Path}' has schema version {current}, newer than this server's {Migrations.Length}; use a newer server or another store directory.");
        }

        for (var version = (int)current; version < Migrations.Length; version++)
        {
            using var migrate = _connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = Migrations[version];
            migrate.ExecuteNonQuery();
        }

        if (current < Migrations.Length)
        {
            using var record = _connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "DELETE FROM schema_version; INSERT INTO schema_version (version) VALUES ($version);";
            record.Parameters.AddWithValue("$version", Migrations.Length);
            record.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private byte[] GetOrCreateConfig(string name, Func<byte[]> create)
    {
        using (var read = _connection.CreateCommand())
        {
            read.CommandText = "SELECT value FROM config WHERE name = $name;";
            read.Parameters.AddWithValue("$name", name);
            if (read.ExecuteScalar() is byte[] stored)
            {
                return stored;
            }
        }

        var value = create();
        using var write = _connection.CreateCommand();
        write.CommandText = "INSERT INTO config (name, value) VALUES ($name, $value);";
        write.Parameters.AddWithValue("$name", name);
        write.Parameters.AddWithValue("$value", value);
        write.ExecuteNonQuery();
        return value;
    }

    private void CheckKeyLength(string name, byte[] key)
    {
        if (key.Length != KeyLength)
        {
            throw new ControlStoreException(Path, $"The control store '{Path}' holds a {key.Length}-byte '{name}'; expected {KeyLength} bytes. The file was changed outside the server.");
        }
    }

    /// <summary>Drops announcements whose grace period ended while the server was down, then caches the rest.</summary>
    private void LoadPeers(DateTimeOffset now)
    {
        using (var purge = _connection.CreateCommand())
        {
            purge.CommandText = "DELETE FROM peers WHERE expires_at_ticks IS NOT NULL AND expires_at_ticks <= $now;";
            purge.Parameters.AddWithValue("$now", now.UtcTicks);
            purge.ExecuteNonQuery();
        }

        using var read = _connection.CreateCommand();
        read.CommandText = "SELECT endpoint, role, client_id, metadata, peer, expires_at_ticks FROM peers;";
        using var reader = read.ExecuteReader();
        while (reader.Read())
        {
            var key = new PeerKey(reader.GetString(0), (Role)reader.GetInt32(1), reader.GetString(2));
            Peer peer;
            try
            {
                peer = Peer.Parser.ParseFrom(reader.GetFieldValue<byte[]>(4));
            }
            catch (InvalidProtocolBufferException broken)
            {
                throw new ControlStoreException(Path, $"The control store '{Path}' holds an unreadable announcement for endpoint '{key.Endpoint}': {broken.Message}", broken);
            }

            DateTimeOffset? expiresAt = reader.IsDBNull(5) ? null : new DateTimeOffset(reader.GetInt64(5), TimeSpan.Zero);
            _peers[key] = new StoredPeer(key, reader.GetString(3), peer, expiresAt);
        }
    }

    private ControlStoreException Describe(Exception failed)
    {
        var reason = failed is SqliteException sqlite
            ? sqlite.SqliteErrorCode switch
            {
                // SQLITE_BUSY, SQLITE_LOCKED: the exclusive lock of another open store.
                5 or 6 => "it is locked by another process (is another control server using this store directory?)",

                // SQLITE_CORRUPT, SQLITE_NOTADB.
                11 or 26 => "it is corrupted or not a SQLite database (move it away to start with an empty store)",
                _ => sqlite.Message,
            }
            : failed.Message;
        return new ControlStoreException(Path, $"The control store '{Path}' cannot be used: {reason}", failed);
    }
}
