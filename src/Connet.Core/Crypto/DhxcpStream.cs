using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Connet.Core.Crypto;

/// <summary>
/// connet's dhxcp record layer (connet-protocol.md §2.6, pkg/cryptoc/stream.go) over an inner stream: each record is
/// <c>u16 BE length ‖ ChaCha20-Poly1305(plaintext) ‖ tag</c>, no AAD, with a 12-byte big-endian counter nonce per
/// direction starting at zero.
/// </summary>
/// <remarks>
/// One read and one write may run at the same time (full duplex); two concurrent reads or two concurrent writes
/// are refused. A record that fails authentication or ends early fails the read side for good, so a caller never
/// sees unauthenticated bytes.
/// </remarks>
public sealed class DhxcpStream : Stream
{
    /// <summary>Largest plaintext one record carries when we write.</summary>
    public const int MaxRecordPlaintext = 65517;

    private const int LengthPrefixSize = sizeof(ushort);
    private const int TagSize = 16;
    private const int NonceSize = 12;

    // We accept any u16 record length when reading, in case a peer fills records further than we do.
    private const int ReadBufferSize = LengthPrefixSize + ushort.MaxValue;

    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly ChaCha20Poly1305 _writeCipher;
    private readonly ChaCha20Poly1305 _readCipher;

    private ulong _writeCounter;
    private ulong _readCounter;
    private byte[]? _readBuffer;
    private int _plaintextOffset;
    private int _plaintextCount;
    private bool _endOfStream;
    private string? _readFailure;
    private int _readInProgress;
    private int _writeInProgress;
    private bool _disposed;

    public DhxcpStream(Stream inner, DhxcpKeys keys, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.WriteKey.Length != DhxcpKeys.KeyLength || keys.ReadKey.Length != DhxcpKeys.KeyLength)
        {
            throw new ArgumentException($"dhxcp keys are {DhxcpKeys.KeyLength} bytes each.", nameof(keys));
        }

        _inner = inner;
        _leaveOpen = leaveOpen;
        _writeCipher = new ChaCha20Poly1305(keys.WriteKey.Span);
        _readCipher = new ChaCha20Poly1305(keys.ReadKey.Span);
    }

    public override bool CanRead => !_disposed;

    public override bool CanWrite => !_disposed;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Nonce counter of the next record we write; settable by tests to reach the overflow guard.</summary>
    internal ulong WriteRecordCounter
    {
        get => _writeCounter;
        set => _writeCounter = value;
    }

    /// <summary>Nonce counter of the next record we expect to read; settable by tests.</summary>
    internal ulong ReadRecordCounter
    {
        get => _readCounter;
        set => _readCounter = value;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int Read(Span<byte> buffer)
    {
        BeginRead();
        try
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }

            if (_plaintextCount == 0)
            {
                // With useAsync false every inner call is synchronous, so the ValueTask has already completed.
                var fill = FillPlaintextAsync(useAsync: false, CancellationToken.None);
                var filled = fill.IsCompleted ? fill.Result : fill.AsTask().GetAwaiter().GetResult();
                if (!filled)
                {
                    return 0;
                }
            }

            return TakePlaintext(buffer);
        }
        finally
        {
            EndRead();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        BeginRead();
        try
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }

            if (_plaintextCount == 0 && !await FillPlaintextAsync(useAsync: true, cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }

            return TakePlaintext(buffer.Span);
        }
        finally
        {
            EndRead();
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        BeginWrite();
        var record = RentRecordBuffer(buffer.Length);
        try
        {
            while (!buffer.IsEmpty)
            {
                var chunk = Math.Min(buffer.Length, MaxRecordPlaintext);
                var recordLength = SealRecord(buffer[..chunk], record);
                _inner.Write(record, 0, recordLength);
                buffer = buffer[chunk..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
            EndWrite();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        BeginWrite();
        var record = RentRecordBuffer(buffer.Length);
        try
        {
            while (!buffer.IsEmpty)
            {
                var chunk = Math.Min(buffer.Length, MaxRecordPlaintext);
                var recordLength = SealRecord(buffer.Span[..chunk], record);
                await _inner.WriteAsync(record.AsMemory(0, recordLength), cancellationToken).ConfigureAwait(false);
                buffer = buffer[chunk..];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(record);
            EndWrite();
        }
    }

    public override void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _inner.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _inner.FlushAsync(cancellationToken);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            ReleaseResources();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            ReleaseResources();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        // Stream.DisposeAsync calls Dispose(true), which finds us already disposed and only suppresses finalization.
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void ReleaseResources()
    {
        _disposed = true;
        _writeCipher.Dispose();
        _readCipher.Dispose();

        // A read still running (misuse, but possible) keeps its buffer; returning it would let the pool hand it out
        // while that read writes into it.
        var readBuffer = _readBuffer;
        if (readBuffer is not null && Interlocked.CompareExchange(ref _readInProgress, 1, 0) == 0)
        {
            _readBuffer = null;
            CryptographicOperations.ZeroMemory(readBuffer);
            ArrayPool<byte>.Shared.Return(readBuffer);
        }
    }

    private static byte[] RentRecordBuffer(int plaintextLength)
        => ArrayPool<byte>.Shared.Rent(LengthPrefixSize + Math.Min(plaintextLength, MaxRecordPlaintext) + TagSize);

    /// <summary>Encrypts one record into <paramref name="record"/> and returns its length on the wire.</summary>
    private int SealRecord(ReadOnlySpan<byte> plaintext, byte[] record)
    {
        // The counter must never repeat under one key; we stop one short of wrapping rather than reuse a nonce.
        if (_writeCounter == ulong.MaxValue)
        {
            throw new DhxcpException("dhxcp: the write nonce counter is exhausted; open a new stream.");
        }

        Span<byte> nonce = stackalloc byte[NonceSize];
        WriteNonce(nonce, _writeCounter);
        var sealedLength = plaintext.Length + TagSize;
        BinaryPrimitives.WriteUInt16BigEndian(record, (ushort)sealedLength);
        var body = record.AsSpan(LengthPrefixSize, sealedLength);
        _writeCipher.Encrypt(nonce, plaintext, body[..plaintext.Length], body[plaintext.Length..]);
        _writeCounter++;
        return LengthPrefixSize + sealedLength;
    }

    /// <summary>Reads and opens records until one carries plaintext; false at a clean end of stream (between records).</summary>
    private async ValueTask<bool> FillPlaintextAsync(bool useAsync, CancellationToken cancellationToken)
    {
        if (_readFailure is not null)
        {
            throw new DhxcpException(_readFailure);
        }

        if (_endOfStream)
        {
            return false;
        }

        var buffer = _readBuffer ??= ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        while (_plaintextCount == 0)
        {
            var record = _readCounter;
            var headerRead = await ReadAtLeastAsync(buffer.AsMemory(0, LengthPrefixSize), useAsync, cancellationToken).ConfigureAwait(false);
            if (headerRead == 0)
            {
                _endOfStream = true;
                return false;
            }

            if (headerRead < LengthPrefixSize)
            {
                throw Fail($"dhxcp: the stream ended inside the length prefix of record {record}.");
            }

            var sealedLength = BinaryPrimitives.ReadUInt16BigEndian(buffer);
            if (sealedLength < TagSize)
            {
                throw Fail($"dhxcp: record {record} is {sealedLength} bytes, shorter than its {TagSize}-byte tag.");
            }

            var bodyRead = await ReadAtLeastAsync(buffer.AsMemory(LengthPrefixSize, sealedLength), useAsync, cancellationToken).ConfigureAwait(false);
            if (bodyRead < sealedLength)
            {
                throw Fail($"dhxcp: the stream ended inside record {record} ({bodyRead} of {sealedLength} bytes).");
            }

            if (_readCounter == ulong.MaxValue)
            {
                throw Fail("dhxcp: the read nonce counter is exhausted.");
            }

            var plaintextLength = sealedLength - TagSize;
            OpenRecord(buffer.AsSpan(LengthPrefixSize, sealedLength), plaintextLength, record);
            _readCounter++;
            _plaintextOffset = LengthPrefixSize;
            _plaintextCount = plaintextLength;
        }

        return true;
    }

    /// <summary>Decrypts one record body in place (ciphertext and plaintext start at the same offset, which the AEAD allows).</summary>
    private void OpenRecord(Span<byte> body, int plaintextLength, ulong record)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        WriteNonce(nonce, _readCounter);
        try
        {
            _readCipher.Decrypt(nonce, body[..plaintextLength], body[plaintextLength..], body[..plaintextLength]);
        }
        catch (AuthenticationTagMismatchException exception)
        {
            throw Fail($"dhxcp: record {record} failed authentication (tampered, reordered, or wrong key).", exception);
        }
    }

    private async ValueTask<int> ReadAtLeastAsync(Memory<byte> destination, bool useAsync, CancellationToken cancellationToken)
        => useAsync
            ? await _inner.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false)
            : _inner.ReadAtLeast(destination.Span, destination.Length, throwOnEndOfStream: false);

    private int TakePlaintext(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _plaintextCount);
        _readBuffer.AsSpan(_plaintextOffset, count).CopyTo(destination);
        _plaintextOffset += count;
        _plaintextCount -= count;
        return count;
    }

    private DhxcpException Fail(string message, Exception? innerException = null)
    {
        _readFailure = message;
        _plaintextCount = 0;
        return innerException is null ? new DhxcpException(message) : new DhxcpException(message, innerException);
    }

    private static void WriteNonce(Span<byte> nonce, ulong counter)
    {
        // The 12-byte big-endian counter: the top 4 bytes stay zero because the counter is capped below 2^64.
        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], counter);
    }

    private void BeginRead()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _readInProgress, 1) != 0)
        {
            throw new InvalidOperationException("A dhxcp read is already in progress.");
        }
    }

    private void EndRead() => Volatile.Write(ref _readInProgress, 0);

    private void BeginWrite()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _writeInProgress, 1) != 0)
        {
            throw new InvalidOperationException("A dhxcp write is already in progress.");
        }
    }

    private void EndWrite() => Volatile.Write(ref _writeInProgress, 0);
}
