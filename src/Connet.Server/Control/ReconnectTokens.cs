using System.Security.Cryptography;
using System.Text;

namespace Connet.Server.Control;

/// <summary>
/// Seals a client ID into the opaque reconnect token of <c>AuthenticateResp</c>, so a client that reconnects
/// keeps its ID (and its announcements in their grace period).
/// </summary>
/// <remarks>
/// Go connet seals with NaCl secretbox (XSalsa20-Poly1305, 24-byte nonce prefix). We use AES-256-GCM
/// (12-byte nonce ‖ ciphertext ‖ 16-byte tag) because .NET has it built in. The token is opaque to clients and
/// only this server opens it, so the format difference is invisible on the wire; what it does mean is that a
/// token minted by a Go control server is not accepted here (the client just gets a new ID). With a store
/// directory the key comes from <see cref="Storage.IControlServerKeys"/>, so tokens survive a restart; without
/// one it is random per process.
/// </remarks>
internal sealed class ReconnectTokens : IDisposable
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int MaxClientIdBytes = 256;

    private readonly AesGcm _aead;

    public ReconnectTokens(ReadOnlySpan<byte> key) => _aead = new AesGcm(key, TagSize);

    public static ReconnectTokens CreateRandom()
    {
        Span<byte> key = stackalloc byte[32];
        RandomNumberGenerator.Fill(key);
        try
        {
            return new ReconnectTokens(key);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public byte[] Seal(string clientId) => Seal(clientId, ReconnectTokenPurpose.Client);

    /// <summary>
    /// Seals <paramref name="id"/> for <paramref name="purpose"/>: the purpose is the associated data, so a client's
    /// token does not open as a relay's and the other way round.
    /// </summary>
    public byte[] Seal(string id, ReconnectTokenPurpose purpose)
    {
        var plaintext = Encoding.UTF8.GetBytes(id);
        var token = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = token.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        _aead.Encrypt(nonce, plaintext, token.AsSpan(NonceSize, plaintext.Length), token.AsSpan(NonceSize + plaintext.Length, TagSize), AssociatedData(purpose));
        return token;
    }

    /// <summary>The client ID sealed in <paramref name="token"/>, or null if it is not a token of this server.</summary>
    public string? TryOpen(ReadOnlySpan<byte> token) => TryOpen(token, ReconnectTokenPurpose.Client);

    /// <summary>The ID sealed in <paramref name="token"/> for <paramref name="purpose"/>, or null if it is not such a token of this server.</summary>
    public string? TryOpen(ReadOnlySpan<byte> token, ReconnectTokenPurpose purpose)
    {
        var length = token.Length - NonceSize - TagSize;
        if (length is <= 0 or > MaxClientIdBytes)
        {
            return null;
        }

        var plaintext = new byte[length];
        try
        {
            _aead.Decrypt(token[..NonceSize], token.Slice(NonceSize, length), token[(NonceSize + length)..], plaintext, AssociatedData(purpose));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return Encoding.UTF8.GetString(plaintext);
    }

    public void Dispose() => _aead.Dispose();

    // Client tokens keep empty associated data, so tokens issued before relays existed still open.
    private static ReadOnlySpan<byte> AssociatedData(ReconnectTokenPurpose purpose) =>
        purpose == ReconnectTokenPurpose.Relay ? "connet relay reconnect"u8 : [];
}

/// <summary>Who a reconnect token was issued to.</summary>
internal enum ReconnectTokenPurpose
{
    Client,
    Relay,
}
