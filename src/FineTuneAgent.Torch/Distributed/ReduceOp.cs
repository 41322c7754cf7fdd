namespace FineTuneAgent.Torch;

public static partial class torch
{
    public static partial class distributed
    {
        /// <summary>
        /// How all_reduce combines the ranks' tensors (torch.distributed.ReduceOp). The values are
        /// c10d's codes. Avg is a sum divided by the world size on every backend (Gloo in libtorch
        /// 1.13 has no AVG); integer tensors divide with truncation.
        /// </summary>
        public enum ReduceOp
        {
            Sum = 0,
            Avg = 1,
            Product = 2,
            Min = 3,
            Max = 4,
        }
    }
}
