using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Connet.Quic.Core.Endpoint;

/// <summary>
/// Seals and opens the tokens our Retry packets carry (RFC 9000 §8.1.2): AES-GCM under a per-endpoint random key over
/// (expiry, original DCID, Retry SCID), bound to the client's address as associated data so a token only works from
/// the address it was issued to. Tokens die with the endpoint, which is all Retry needs.
/// </summary>
internal sealed class RetryTokenProtector : IDisposable
{
    /// <summary>Marks our Retry tokens apart from anything else a client might echo (a NEW_TOKEN of another server).</summary>
    public const byte RetryTokenMarker = 0x52;

    private const int NonceLength = 12;
    private const int TagLength = 16;
    private const int MaxAddressLength = 16 + 2;

    // marker, nonce, [expiry(8), odcid len, odcid, scid len, scid], tag
    public const int MaxTokenLength = 1 + NonceLength + 8 + 1 + ConnectionId.MaxLength + 1 + ConnectionId.MaxLength + TagLength;

    private readonly AesGcm _aead;
    public RetryTokenProtector()
    {
        Span<byte> key = stackalloc byte[16];
        RandomNumberGenerator.Fill(key);
        _aead = new AesGcm(key, TagLength);
    }

    public static bool LooksLikeRetryToken(ReadOnlySpan<byte> token) => !token.IsEmpty && token[0] == RetryTokenMarker;

    public int Seal(Span<byte> destination, IPEndPoint client, ConnectionId originalDestinationId, ConnectionId retrySourceId, Instant expiry)
    {
        int plaintextLength = 8 + 1 + originalDestinationId.Length + 1 + retrySourceId.Length;
        int length = 1 + NonceLength + plaintextLength + TagLength;
        Span<byte> plaintext = stackalloc byte[plaintextLength];
        BinaryPrimitives.WriteInt64BigEndian(plaintext, expiry.Microseconds);
        plaintext[8] = (byte)originalDestinationId.Length;
        originalDestinationId.Span.CopyTo(plaintext[9..]);
        plaintext[9 + originalDestinationId.Length] = (byte)retrySourceId.Length;
        retrySourceId.Span.CopyTo(plaintext[(10 + originalDestinationId.Length)..]);

        destination[0] = RetryTokenMarker;
        Span<byte> nonce = destination.Slice(1, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        Span<byte> address = stackalloc byte[MaxAddressLength];
        int addressLength = WriteAddress(client, address);
        _aead.Encrypt(
            nonce,
            plaintext,
            destination.Slice(1 + NonceLength, plaintextLength),
            destination.Slice(1 + NonceLength + plaintextLength, TagLength),
            address[..addressLength]);
        return length;
    }

    /// <summary>False for a token that is forged, damaged, expired or presented from another address.</summary>
    public bool TryOpen(ReadOnlySpan<byte> token, IPEndPoint client, Instant now, out ConnectionId originalDestinationId, out ConnectionId retrySourceId)
    {
        originalDestinationId = default;
        retrySourceId = default;
        int plaintextLength = token.Length - 1 - NonceLength - TagLength;
        if (!LooksLikeRetryToken(token) || plaintextLength < 10 || token.Length > MaxTokenLength)
        {
            return false;
        }

        Span<byte> plaintext = stackalloc byte[plaintextLength];
        Span<byte> address = stackalloc byte[MaxAddressLength];
        int addressLength = WriteAddress(client, address);
        try
        {
            _aead.Decrypt(
                token.Slice(1, NonceLength),
                token.Slice(1 + NonceLength, plaintextLength),
                token.Slice(1 + NonceLength + plaintextLength, TagLength),
                plaintext,
                address[..addressLength]);
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        // The content was sealed by us, but parse it defensively anyway: a bug should drop a packet, not throw.
        var expiry = new Instant(BinaryPrimitives.ReadInt64BigEndian(plaintext));
        int odcidLength = plaintext[8];
        if (now > expiry || 9 + odcidLength >= plaintextLength)
        {
            return false;
        }

        int scidLength = plaintext[9 + odcidLength];
        if (10 + odcidLength + scidLength != plaintextLength
            || !ConnectionId.TryCreate(plaintext.Slice(9, odcidLength), out originalDestinationId)
            || !ConnectionId.TryCreate(plaintext.Slice(10 + odcidLength, scidLength), out retrySourceId))
        {
            return false;
        }

        return true;
    }

    public void Dispose() => _aead.Dispose();

    private static int WriteAddress(IPEndPoint endPoint, Span<byte> destination)
    {
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        address.TryWriteBytes(destination, out int written);
        BinaryPrimitives.WriteUInt16BigEndian(destination[written..], (ushort)endPoint.Port);
        return written + 2;
    }
}
