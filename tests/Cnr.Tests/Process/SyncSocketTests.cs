using Cnr.Linux;
using Cnr.Process;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace Cnr.Tests.Process;

public class SyncSocketTests
{
    [Fact]
    public void Send_AMessageFarBiggerThanOneDatagram_ArrivesWholeAsOneMessage()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (a) using (b)
        {
            var big = new byte[5 * 1024 * 1024 + 17];
            new Random(1).NextBytes(big);
            // The socket buffer holds a few pieces only: the sender blocks until the reader takes them.
            var sender = Task.Run(() => { a.Send(SyncMessage.Config, big); a.Send(SyncMessage.Created); });
            var msg = b.Receive();
            Assert.Equal(SyncMessage.Config, msg!.Value.Type);
            Assert.Equal(big, msg.Value.Payload);
            Assert.Equal(SyncMessage.Created, b.Receive()!.Value.Type);
            sender.Wait();
        }
    }

    [Fact]
    public void Receive_AfterThePeerClosed_IsNull_AndSendSaysThePeerIsGone()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (b)
        {
            a.Send(SyncMessage.Ready);
            a.Dispose();
            Assert.Equal(SyncMessage.Ready, b.Receive()!.Value.Type);
            Assert.Null(b.Receive());
            Assert.Throws<SyncPeerGoneException>(() => b.Send(SyncMessage.Go));
        }
    }

    [Fact]
    public void Receive_WhenThePeerDiedWithOurMessageUnread_IsNullNotAnErrno()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (b)
        {
            b.Send(SyncMessage.Go);   // never read: the close makes b's next recv ECONNRESET
            a.Dispose();
            Assert.Null(b.Receive());
        }
    }

    [Fact]
    public void Receive_DontWait_OnAnEmptyLiveSocket_IsNull()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (a) using (b) Assert.Null(b.Receive(dontWait: true));
    }

    [Fact]
    public void Receive_AMessageThatCarriesAnFd_BringsTheFdWithIt_AndTheNextMessageFollows()
    {
        var (a, b) = SyncSocket.CreatePair();
        var file = Path.GetTempFileName();
        try
        {
            using (a) using (b)
            {
                using (var sent = SafeFd.Check(Libc.open(file, Libc.O_RDWR | Libc.O_CLOEXEC, 0), "open", file))
                    a.SendFd(sent, SyncMessage.Terminal);
                a.Send(SyncMessage.Created);

                var msg = b.Receive()!.Value;
                Assert.Equal(SyncMessage.Terminal, msg.Type);
                Assert.NotNull(msg.Fd);
                // The same open file, though the sender closed its own descriptor.
                using (msg.Fd)
                using (var through = new FileStream(new SafeFileHandle(msg.Fd.Fd, ownsHandle: false), FileAccess.Write))
                    through.Write("via the fd"u8);
                Assert.Equal("via the fd", File.ReadAllText(file));
                var next = b.Receive()!.Value;
                Assert.Equal((SyncMessage.Created, (SafeFd?)null), (next.Type, next.Fd));
            }
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Send_KeepsEachTypeToWhatItCarries()
    {
        var (a, b) = SyncSocket.CreatePair();
        using (a) using (b)
        {
            Assert.Throws<ArgumentException>(() => a.Send(SyncMessage.Terminal));
            Assert.Throws<ArgumentException>(() => a.SendFd(b.Handle, SyncMessage.Created));
            Assert.Null(b.Receive(dontWait: true));   // nothing went out
        }
    }
}
