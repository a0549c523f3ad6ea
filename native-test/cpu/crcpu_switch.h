/*
 * crcpu_switch.h: the x86-64 context switch of crcpu.h's fibers (the threads of a block), included by
 * crcpu.h inside namespace crcpu; not a header of its own.
 */
#ifndef CHARRNN_CRCPU_SWITCH_H
#define CHARRNN_CRCPU_SWITCH_H

/* ------------------------------------------------------------------ fibers */
extern "C" void crcpu_switch(void **save_sp, void *load_sp);
extern "C" void crcpu_trampoline();
/* Saves the callee-saved registers, MXCSR and the x87 control word on the current stack, stores
 * the stack pointer in *save_sp (rdi), loads load_sp (rsi) and restores the same from there. */
asm(R"(
  .text
  .weak crcpu_switch
  .hidden crcpu_switch
  .type crcpu_switch,@function
crcpu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size crcpu_switch,.-crcpu_switch
  .weak crcpu_trampoline
  .hidden crcpu_trampoline
  .type crcpu_trampoline,@function
crcpu_trampoline:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size crcpu_trampoline,.-crcpu_trampoline
  .section .note.GNU-stack,"",@progbits
  .text
)");

#endif
